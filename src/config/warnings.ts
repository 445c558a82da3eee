import { findPlatform } from '../platforms/registry.ts';
import type { Config } from './schema.ts';

/** Below this a secret imgate signs with can be guessed or brute-forced offline from one signed delivery. */
const SHORT_SECRET = 16;

/**
 * What `imgate check` and `imgate start` warn about: the platforms' own warnings for enabled channels (weak callback
 * authentication and the like) and subscription secrets shorter than 16 characters (16 bytes for a
 * `whsec_` key). The admin token, API keys and `metrics.token` are refused below 16 by the schema;
 * credentials a platform issues are what the platform gives, and are not judged.
 */
/** A warning, and the channel it is about (for the log line's `channel` field). */
export interface ConfigWarning {
  channel?: string;
  message: string;
}

export function configWarnings(config: Config): ConfigWarning[] {
  const platformWarnings = config.channels
    .filter((channel) => channel.enabled)
    .flatMap((channel) => (findPlatform(channel.platform)?.startupWarnings?.(channel) ?? []).map((message) => ({ channel: channel.id, message })));
  const shortSecrets = config.subscriptions.flatMap((sub) =>
    [sub.secret ?? []].flat().some(isShort)
      ? [
          {
            message: `subscription "${sub.id}" has a secret shorter than ${SHORT_SECRET} characters: anyone who sees one signed delivery can try to guess it; use a long random one (e.g. openssl rand -hex 32)`,
          },
        ]
      : [],
  );
  return [...platformWarnings, ...shortSecrets];
}

function isShort(secret: string): boolean {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64').length < SHORT_SECRET : secret.length < SHORT_SECRET;
}
