import type { IncomingHttpHeaders } from 'node:http';
import type { NormalizedEvent } from '../../core/event.ts';
import { ImgateError } from '../../core/errors.ts';
import type { CallbackOutcome, HttpReply, InboundRequest } from '../_kit/adapter.ts';
import { parseJsonBody } from '../_kit/json-body.ts';
import { safeEqual } from '../_kit/timing-safe.ts';
import type { FeishuChannelConfig } from './config.ts';
import { decryptFeishuPayload, verifyLarkSignature, type LarkSignatureHeaders } from './crypto.ts';
import { normalizeFeishuEvent, type BotIdentity } from './normalize.ts';
import { jsonObject } from '../_kit/payload-values.ts';

type Json = Record<string, unknown>;

/**
 * What Feishu expects once an event is taken: HTTP 200 within 3 s, any body (接收事件,
 * https://open.feishu.cn/document/ukTMukTMukTM/uYDNxYjL2QTM24iN0EjN/event-subscription-configure-/encrypt-key-encryption-configuration-case);
 * without it the event comes again after 15 s, 5 min, 1 h and 6 h.
 */
export const FEISHU_ACK: HttpReply = { status: 200, contentType: 'application/json', body: {} };

export interface FeishuCallbackContext {
  config: FeishuChannelConfig;
  /** The bot's open_id once known (config or `bot/v3/info`), for mentions and own messages. */
  bot: BotIdentity;
}

/**
 * One event subscription callback (`POST /hooks/<id>`), in this order:
 *
 * 1. with an Encrypt Key and the signature headers, the timestamp window and `X-Lark-Signature`
 *    over the raw body (401 otherwise);
 * 2. `{"encrypt": …}` decrypted with the Encrypt Key;
 * 3. `url_verification` (plain or encrypted): the verification token checked, `{challenge}`
 *    answered at once, nothing stored. Feishu wants it within 1 s and may send it unsigned;
 * 4. any other request must be signed when the channel has an Encrypt Key, and must carry the
 *    verification token when it has one (`header.token` in schema 2.0, `token` in 1.0);
 * 5. the events imgate normalizes are stored and acknowledged after the commit; others are
 *    acknowledged and dropped.
 */
export function handleFeishuCallback(ctx: FeishuCallbackContext, req: InboundRequest): CallbackOutcome {
  const { config } = ctx;
  if (req.method !== 'POST') throw new ImgateError('IMG_ERR_INBOUND_METHOD', { message: 'Feishu event callbacks are POST requests' });
  if (config.mode === 'websocket') {
    throw new ImgateError('IMG_ERR_INBOUND_UNSUPPORTED', {
      message: `channel "${config.id}" is in websocket mode: its events come over Feishu's long connection, not to this URL; set mode: webhook to take callbacks here`,
    });
  }

  const outer = parseJsonObject(req.rawBody);
  const signature = signatureHeaders(req.headers);
  const signed = signature.signature !== undefined;
  if (config.encryptKey && signed) {
    checkFreshness(config.timestampWindowSeconds, signature.timestamp, req.receivedAt);
    verifyLarkSignature(config.encryptKey, signature, req.rawBody);
  }
  const payload = openFeishuPayload(config, outer);

  if (payload.type === 'url_verification') {
    checkVerificationToken(config, payload.token);
    if (typeof payload.challenge !== 'string') throw unsupported('the url_verification request has no challenge');
    return { kind: 'reply', reply: { status: 200, contentType: 'application/json', body: { challenge: payload.challenge } } };
  }

  if (config.encryptKey && !signed) verifyLarkSignature(config.encryptKey, signature, req.rawBody);
  const header = jsonObject(payload.header);
  if (header !== null) {
    checkVerificationToken(config, header.token);
    const event = normalizeFeishuEvent(payload, { receivedAt: req.receivedAt, botOpenId: ctx.bot.openId });
    return outcome(event);
  }
  if (payload.type === 'event_callback') {
    // Schema 1.0, from apps subscribed before 2.0: checked like any event, never stored (imgate
    // normalizes the 2.0 events only; subscribe to those in the developer console).
    checkVerificationToken(config, payload.token);
    return { kind: 'reply', reply: FEISHU_ACK };
  }
  throw unsupported('not a Feishu event: no header (schema 2.0), no event_callback (1.0), no url_verification');
}

function outcome(event: NormalizedEvent | null): CallbackOutcome {
  if (event === null) return { kind: 'reply', reply: FEISHU_ACK };
  return { kind: 'events', events: [event], ack: FEISHU_ACK };
}

/** The body (or a long-connection event), decrypted when it is `{"encrypt": …}`. */
export function openFeishuPayload(config: FeishuChannelConfig, outer: Json): Json {
  if (!('encrypt' in outer)) return outer;
  if (typeof outer.encrypt !== 'string' || outer.encrypt === '') throw malformed('"encrypt" is not a non-empty string');
  if (!config.encryptKey) {
    throw unsupported(`the event is encrypted but channel "${config.id}" has no encryptKey: set it to the app's Encrypt Key`);
  }
  const plain = decryptFeishuPayload(config.encryptKey, outer.encrypt);
  let inner: unknown;
  try {
    inner = parseJsonBody(Buffer.from(plain, 'utf8'));
  } catch {
    throw malformed('the decrypted event is not JSON');
  }
  const payload = jsonObject(inner);
  if (payload === null) throw malformed('the decrypted event is not a JSON object');
  return payload;
}

/** Compared in constant time; a channel without a verificationToken checks nothing here. */
function checkVerificationToken(config: FeishuChannelConfig, token: unknown): void {
  if (!config.verificationToken) return;
  if (typeof token !== 'string' || !safeEqual(token, config.verificationToken)) {
    throw new ImgateError('IMG_ERR_INBOUND_BAD_TOKEN', { message: 'the verification token is missing or wrong' });
  }
}

function checkFreshness(windowSeconds: number, timestamp: string | undefined, receivedAt: Date): void {
  if (windowSeconds === 0 || timestamp === undefined) return;
  const seconds = Number(timestamp);
  if (!Number.isFinite(seconds) || Math.abs(receivedAt.getTime() / 1000 - seconds) > windowSeconds) {
    throw new ImgateError('IMG_ERR_INBOUND_STALE_TIMESTAMP');
  }
}

function signatureHeaders(headers: IncomingHttpHeaders): LarkSignatureHeaders {
  return {
    timestamp: header(headers, 'x-lark-request-timestamp'),
    nonce: header(headers, 'x-lark-request-nonce'),
    signature: header(headers, 'x-lark-signature'),
  };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? undefined : first;
}

function parseJsonObject(rawBody: Buffer): Json {
  const parsed = jsonObject(parseJsonBody(rawBody));
  if (parsed === null) throw malformed('the request body is not a JSON object');
  return parsed;
}

function malformed(message: string): ImgateError {
  return new ImgateError('IMG_ERR_INBOUND_MALFORMED', { message });
}

function unsupported(message: string): ImgateError {
  return new ImgateError('IMG_ERR_INBOUND_UNSUPPORTED', { message });
}
