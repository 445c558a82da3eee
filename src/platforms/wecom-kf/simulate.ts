import { randomBytes } from 'node:crypto';
import type { CallbackSample, SimulatedCallback, SimulateOptions } from '../_kit/callback-sample.ts';
import { cdata, encryptedWecomSample, wecomTimestamp } from '../_kit/wecom-sample.ts';
import type { WecomKfChannelConfig } from './config.ts';

export interface WecomKfSampleOptions {
  /** The customer-service account the notice is about (`wk…`). */
  openKfId: string;
  /** The notice's Token for `kf/sync_msg`; a random one (which WeCom would refuse) by default. */
  token?: string;
  now?: Date;
}

/**
 * A `kf_msg_or_event` notice as WeCom sends it for this channel
 * (https://kf.weixin.qq.com/api/doc/path/94745), encrypted with its EncodingAESKey for its CorpID
 * and signed with its Token: for `imgate simulate wecom-kf`.
 * The notice carries no message; the gateway answers it and pulls `kf/sync_msg` for the account.
 */
export function buildWecomKfSample(config: WecomKfChannelConfig, options: WecomKfSampleOptions): CallbackSample {
  const timestamp = wecomTimestamp(options.now ?? new Date());
  const inner =
    '<xml>' +
    `<ToUserName>${cdata(config.corpId)}</ToUserName>` +
    `<CreateTime>${timestamp}</CreateTime>` +
    `<MsgType>${cdata('event')}</MsgType>` +
    `<Event>${cdata('kf_msg_or_event')}</Event>` +
    `<Token>${cdata(options.token ?? sampleToken())}</Token>` +
    `<OpenKfId>${cdata(options.openKfId)}</OpenKfId>` +
    '</xml>';
  return encryptedWecomSample(config, { receiveId: config.corpId, innerXml: inner, timestamp, outer: [['ToUserName', config.corpId]] });
}

/** Shaped like WeCom's notice tokens (`ENC` and base62), so a reader recognizes it in a trace. */
function sampleToken(): string {
  return `ENC${randomBytes(24).toString('base64').replace(/[^A-Za-z0-9]/g, '')}`;
}

/** A KF account id for the sample notice when neither the command nor the config names one. */
const SAMPLE_OPEN_KF_ID = 'wkImgateSampleAccount';

/** `imgate simulate wecom-kf`. */
export function simulateWecomKf(config: WecomKfChannelConfig, options: SimulateOptions): SimulatedCallback {
  const openKfId = options.openKfId ?? config.openKfIds?.[0] ?? SAMPLE_OPEN_KF_ID;
  return {
    sample: buildWecomKfSample(config, { openKfId }),
    what: `an encrypted kf_msg_or_event notice for ${openKfId} (the gateway then pulls kf/sync_msg from apiBase)`,
    announcesPull: true,
  };
}
