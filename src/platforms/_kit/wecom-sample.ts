import { randomBytes } from 'node:crypto';
import type { CallbackSample } from './callback-sample.ts';
import { decodeEncodingAESKey, encryptWecomMessage, wecomSignature } from './wecom-crypto.ts';

/** The member (or group member) that sample callbacks come from. */
export const WECOM_SAMPLE_USER = 'imgate-sample-user';

/** What a sample needs of a channel's config: its id and its callback Token and EncodingAESKey. */
export interface WecomSampleChannel {
  id: string;
  token: string;
  encodingAESKey: string;
}

export interface WecomSampleMessage {
  /** The CorpID the message is encrypted for; empty for robots. */
  receiveId: string;
  /** The decrypted callback, `<xml>…</xml>`. */
  innerXml: string;
  /** Unix seconds, as in the signed query (and usually the inner CreateTime). */
  timestamp: string;
  /** Plain elements WeCom writes before `<Encrypt>` in the outer XML (e.g. ToUserName, AgentID), in order. */
  outer?: ReadonlyArray<readonly [name: string, value: string]>;
}

/**
 * A WeCom callback POST (WXBizMsgCrypt): `innerXml` encrypted with the channel's EncodingAESKey
 * for `receiveId`, wrapped in `<xml>…<Encrypt>…</Encrypt></xml>` and signed with its Token in the
 * query, `/hooks/<id>?msg_signature=…&timestamp=…&nonce=…`. Uses imgate's own crypto, as it ships
 * in the product; the tests check the samples against the official `@wecom/crypto`.
 */
export function encryptedWecomSample(channel: WecomSampleChannel, message: WecomSampleMessage): CallbackSample {
  const encrypt = encryptWecomMessage(decodeEncodingAESKey(channel.encodingAESKey), message.innerXml, message.receiveId);
  const { timestamp } = message;
  const nonce = randomBytes(8).toString('hex');
  const query = new URLSearchParams({ msg_signature: wecomSignature(channel.token, timestamp, nonce, encrypt), timestamp, nonce });
  const outer = (message.outer ?? []).map(([name, value]) => `<${name}>${cdata(value)}</${name}>`).join('');
  return {
    path: `/hooks/${encodeURIComponent(channel.id)}?${query.toString()}`,
    method: 'POST',
    headers: { 'content-type': 'text/xml' },
    body: `<xml>${outer}<Encrypt>${cdata(encrypt)}</Encrypt></xml>`,
  };
}

/** A CDATA section. It cannot hold `]]>`: that is split across two sections, as XML writers do. */
export function cdata(text: string): string {
  return `<![CDATA[${text.split(']]>').join(']]]]><![CDATA[>')}]]>`;
}

/** Unix seconds as WeCom writes them in queries and CreateTime. */
export function wecomTimestamp(now: Date): string {
  return String(Math.floor(now.getTime() / 1000));
}
