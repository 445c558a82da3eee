import { inspect } from 'node:util';
import type { Logger as SdkLogger } from '@larksuiteoapi/node-sdk';
import type { Logger } from 'pino';
import { redactSecrets } from '../_kit/platform-http.ts';

/** What stands in a log line for the long connection's URL. */
export const HIDDEN_URL = '[long-connection url]';

/**
 * The official SDK's logger, writing to the channel's log. Levels are shifted down: the SDK's
 * `error`s are conditions it retries by itself (warn here, as the runtime's own reconnect lines
 * are), its `info` is chatter (the console setting to choose, "ws client ready": debug), and its
 * `debug`/`trace` (every ping, every event) stay at trace.
 *
 * The SDK logs the long connection's URL at debug, and that URL carries a one-time ticket and an
 * access key: every ws:// or wss:// URL is blanked, and so is each of `secrets` (the App Secret,
 * should an error ever echo the endpoint request's body).
 */
export function sdkLogger(logger: Logger, secrets: string[]): SdkLogger {
  const writer = (level: 'warn' | 'debug' | 'trace') => (...parts: unknown[]) => {
    logger[level]({ source: '@larksuiteoapi/node-sdk' }, scrub(describe(parts), secrets));
  };
  return { error: writer('warn'), warn: writer('warn'), info: writer('debug'), debug: writer('trace'), trace: writer('trace') };
}

/** The SDK's LoggerProxy hands over its arguments as one array. */
function describe(parts: unknown[]): string {
  return parts
    .flat()
    .map((part) => {
      if (typeof part === 'string') return part;
      // An error's message only: an HTTP client's error object holds the whole request.
      if (part instanceof Error) return part.message;
      return inspect(part, { depth: 3, breakLength: Infinity });
    })
    .join(' ');
}

function scrub(text: string, secrets: string[]): string {
  return redactSecrets(text.replace(/wss?:\/\/[^\s'"`]+/gi, HIDDEN_URL), secrets);
}
