import type { PlatformDefinition } from './_kit/adapter.ts';
import { wechatPadChannelSchema } from './wechat-pad/config.ts';
import { wechatPad } from './wechat-pad/index.ts';
import { wecomRobotChannelSchema } from './wecom-robot/config.ts';
import { wecomRobot } from './wecom-robot/index.ts';
import { wecomChannelSchema } from './wecom/config.ts';
import { wecom } from './wecom/index.ts';
import { wecomKfChannelSchema } from './wecom-kf/config.ts';
import { wecomKf } from './wecom-kf/index.ts';
import { dingtalkChannelSchema } from './dingtalk/config.ts';
import { dingtalk } from './dingtalk/index.ts';
import { feishuChannelSchema, larkChannelSchema } from './feishu/config.ts';
import { feishu, lark } from './feishu/index.ts';
import { qqChannelSchema } from './qq/config.ts';
import { qq } from './qq/index.ts';
import { discordChannelSchema } from './discord/config.ts';
import { discord } from './discord/index.ts';

/** Every platform imgate speaks. A new platform is one folder plus its line in each list. */
export const channelSchemas = [wechatPadChannelSchema, wecomRobotChannelSchema, wecomChannelSchema, wecomKfChannelSchema, dingtalkChannelSchema, feishuChannelSchema, larkChannelSchema, qqChannelSchema, discordChannelSchema] as const;

const platforms: PlatformDefinition[] = [wechatPad, wecomRobot, wecom, wecomKf, dingtalk, feishu, lark, qq, discord];

export function findPlatform(id: string): PlatformDefinition | undefined {
  return platforms.find((platform) => platform.id === id);
}
