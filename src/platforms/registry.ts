import type { PlatformCommand, PlatformDefinition } from './_kit/adapter.ts';
import { dingtalk } from './dingtalk/index.ts';
import { discord } from './discord/index.ts';
import { feishu, lark } from './feishu/index.ts';
import { qq } from './qq/index.ts';
import { slack } from './slack/index.ts';
import { wechatIlink } from './wechat-ilink/index.ts';
import { wechatPad } from './wechat-pad/index.ts';
import { wecomKf } from './wecom-kf/index.ts';
import { wecomRobot } from './wecom-robot/index.ts';
import { telegram } from './telegram/index.ts';
import { wecom } from './wecom/index.ts';

/**
 * Every platform imgate speaks, each a folder under `src/platforms/` and a line here (see
 * CONTRIBUTING.md). The config's `platform` values, `imgate simulate` and docs/config.md follow
 * from this list.
 */
const platforms = [wechatPad, wechatIlink, wecomRobot, wecom, wecomKf, dingtalk, feishu, lark, qq, discord, slack, telegram] as const;

type ConfigSchemaOf<P> = P extends PlatformDefinition<infer S> ? S : never;
type ConfigSchemasOf<T extends readonly unknown[]> = { -readonly [K in keyof T]: ConfigSchemaOf<T[K]> };

/** The platforms' channel schemas, in the registry's order: the members of the config's `channels` union. */
export const channelSchemas = platforms.map((platform) => platform.configSchema) as ConfigSchemasOf<typeof platforms>;

export function findPlatform(id: string): PlatformDefinition | undefined {
  return (platforms as readonly PlatformDefinition[]).find((platform) => platform.id === id);
}

/** Every platform id, as `platform:` takes it in a channel's config. */
export const platformIds: string[] = platforms.map((platform) => platform.id);

/** The platforms `imgate simulate` can fire a sample callback of. */
export const simulatedPlatformIds: string[] = (platforms as readonly PlatformDefinition[]).filter((platform) => platform.simulate).map((platform) => platform.id);

/** The platforms with commands of their own (`imgate <platform> <command>`), and those commands. */
export const platformCommands: { platform: string; commands: PlatformCommand<unknown>[] }[] = (platforms as readonly PlatformDefinition[]).flatMap((platform) =>
  platform.commands === undefined ? [] : [{ platform: platform.id, commands: platform.commands }],
);
