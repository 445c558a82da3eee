import type { PlatformDefinition } from './_kit/adapter.ts';
import { wechatPadChannelSchema } from './wechat-pad/config.ts';
import { wechatPad } from './wechat-pad/index.ts';

/** Every platform imgate speaks. A new platform is one folder plus its line in each list. */
export const channelSchemas = [wechatPadChannelSchema] as const;

const platforms: PlatformDefinition[] = [wechatPad];

export function findPlatform(id: string): PlatformDefinition | undefined {
  return platforms.find((platform) => platform.id === id);
}
