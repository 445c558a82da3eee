import type { ChannelConfig } from '../config/schema.ts';
import { buildDingtalkSample } from '../platforms/dingtalk/simulate.ts';
import { buildDiscordSample } from '../platforms/discord/simulate.ts';
import { buildFeishuSample } from '../platforms/feishu/simulate.ts';
import { buildQqSample } from '../platforms/qq/simulate.ts';
import { buildWechatPadSample } from '../platforms/wechat-pad/simulate.ts';
import { buildWecomKfSample } from '../platforms/wecom-kf/simulate.ts';
import { buildWecomRobotSample } from '../platforms/wecom-robot/simulate.ts';
import { buildWecomSample } from '../platforms/wecom/simulate.ts';

export interface SimulateOptions {
  format: 'flat' | 'pad';
  group?: boolean;
  text?: string;
  openKfId?: string;
}

/** The platforms `imgate simulate` knows. */
export const SIMULATED_PLATFORMS = ['wechat-pad', 'wecom', 'wecom-robot', 'wecom-kf', 'dingtalk', 'feishu', 'lark', 'qq', 'discord'] as const;

/** A KF account id for the sample notice when neither the command nor the config names one. */
const SAMPLE_OPEN_KF_ID = 'wkImgateSampleAccount';

/**
 * A correctly signed (and, for WeCom, encrypted) sample callback for this channel, and a line saying
 * what it is. Built with imgate's own signing code, from the channel's config.
 */
export function simulatedCallback(channel: ChannelConfig, options: SimulateOptions) {
  // Read before the switch narrows it: platforms added later reach the default.
  const platform: string = channel.platform;
  switch (channel.platform) {
    case 'wechat-pad':
      return {
        sample: buildWechatPadSample(channel, { format: options.format, group: options.group, text: options.text }),
        what: `a signed ${options.format} message`,
      };
    case 'wecom':
      return { sample: buildWecomSample(channel, { text: options.text }), what: 'an encrypted app text message' };
    case 'wecom-robot':
      return { sample: buildWecomRobotSample(channel, { text: options.text }), what: 'an encrypted group robot message' };
    case 'wecom-kf': {
      const openKfId = options.openKfId ?? channel.openKfIds?.[0] ?? SAMPLE_OPEN_KF_ID;
      return {
        sample: buildWecomKfSample(channel, { openKfId }),
        what: `an encrypted kf_msg_or_event notice for ${openKfId} (the gateway then pulls kf/sync_msg from apiBase)`,
      };
    }
    case 'dingtalk':
      return {
        sample: buildDingtalkSample(channel, { text: options.text, group: options.group }),
        what: options.group ? 'a signed group text message that @-mentions the robot' : 'a signed single-chat text message',
      };
    case 'feishu':
    case 'lark':
      return {
        sample: buildFeishuSample(channel, { text: options.text }),
        what: channel.encryptKey ? 'an encrypted, signed im.message.receive_v1 text message' : 'a plain im.message.receive_v1 text message',
      };
    case 'qq':
      return {
        sample: buildQqSample(channel, { text: options.text, group: options.group }),
        what: options.group ? 'a signed GROUP_AT_MESSAGE_CREATE (op 0) event' : 'a signed C2C_MESSAGE_CREATE (op 0) event',
      };
    case 'discord':
      return {
        sample: buildDiscordSample(channel, { text: options.text }),
        what: 'a /imgate slash command (APPLICATION_COMMAND) signed with the channel\'s testPrivateKey',
      };
    default:
      throw new Error(`imgate simulate does not know ${platform} yet`);
  }
}
