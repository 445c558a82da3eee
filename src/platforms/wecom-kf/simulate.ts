import { randomBytes } from 'node:crypto';
import { decodeEncodingAESKey, encryptWecomMessage, wecomSignature } from '../_kit/wecom-crypto.ts';
import type { WecomKfChannelConfig } from './config.ts';

export interface WecomKfSampleOptions {
  /** The customer-service account the notice is about (`wk…`). */
  openKfId: string;
  /** The notice's Token for `kf/sync_msg`; a random one (which WeCom would refuse) by default. */
  token?: string;
  now?: Date;
}

export interface WecomKfSample {
  /** `/hooks/<id>?msg_signature=…&timestamp=…&nonce=…` */
  path: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
}

/**
 * A `kf_msg_or_event` notice as WeCom sends it for this channel (PLATFORMS.md §2), encrypted with
 * its EncodingAESKey for its CorpID and signed with its Token: for `imgate simulate wecom-kf`.
 * The notice carries no message; the gateway answers it and pulls `kf/sync_msg` for the account.
 * Built with imgate's own crypto, as it ships in the product; tests check it against the
 * official `@wecom/crypto`.
 */
export function buildWecomKfSample(config: WecomKfChannelConfig, options: WecomKfSampleOptions): WecomKfSample {
  const now = options.now ?? new Date();
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const inner =
    '<xml>' +
    `<ToUserName>${cdata(config.corpId)}</ToUserName>` +
    `<CreateTime>${timestamp}</CreateTime>` +
    `<MsgType>${cdata('event')}</MsgType>` +
    `<Event>${cdata('kf_msg_or_event')}</Event>` +
    `<Token>${cdata(options.token ?? sampleToken())}</Token>` +
    `<OpenKfId>${cdata(options.openKfId)}</OpenKfId>` +
    '</xml>';
  const encrypt = encryptWecomMessage(decodeEncodingAESKey(config.encodingAESKey), inner, config.corpId);
  const nonce = randomBytes(8).toString('hex');
  const query = new URLSearchParams({
    msg_signature: wecomSignature(config.token, timestamp, nonce, encrypt),
    timestamp,
    nonce,
  }).toString();
  const body = '<xml>' + `<ToUserName>${cdata(config.corpId)}</ToUserName>` + `<Encrypt>${cdata(encrypt)}</Encrypt>` + '</xml>';
  return {
    path: `/hooks/${encodeURIComponent(config.id)}?${query}`,
    method: 'POST',
    headers: { 'content-type': 'text/xml' },
    body,
  };
}

/** Shaped like WeCom's notice tokens (`ENC` and base62), so a reader recognizes it in a trace. */
function sampleToken(): string {
  return `ENC${randomBytes(24).toString('base64').replace(/[^A-Za-z0-9]/g, '')}`;
}

/** CDATA cannot hold `]]>`: split it across two sections, as XML writers do. */
function cdata(text: string): string {
  return `<![CDATA[${text.split(']]>').join(']]]]><![CDATA[>')}]]>`;
}
