import type { RawRequestShape } from '../../core/event.ts';
import { ImgateError } from '../../core/errors.ts';
import type { HttpReply, InboundRequest } from './adapter.ts';
import { decodeEncodingAESKey, decryptWecomMessage, verifyWecomSignature } from './wecom-crypto.ts';
import { parseXmlSafely } from './xml.ts';

/** What a channel needs to open WeCom callbacks (apps, robots and customer service alike). */
export interface WecomCallbackKeys {
  token: string;
  key: Buffer;
  /** The CorpID for apps and customer service; null where the receiver is not checked (robots). */
  receiveId: string | null;
  /** How far `timestamp` may be from now; 0 turns the check off. */
  timestampWindowSeconds: number;
}

export function wecomCallbackKeys(options: {
  token: string;
  encodingAESKey: string;
  receiveId: string | null;
  timestampWindowSeconds: number;
}): WecomCallbackKeys {
  return {
    token: options.token,
    key: decodeEncodingAESKey(options.encodingAESKey),
    receiveId: options.receiveId,
    timestampWindowSeconds: options.timestampWindowSeconds,
  };
}

/**
 * `<Encrypt>`, its text bare or as CDATA. No two quantifiers here can match the same characters:
 * one that ran `\s*` beside a class holding `\s` backtracked cubically, and an unsigned body of
 * `<Encrypt>` and a few thousand spaces held the event loop for minutes.
 */
const ENCRYPT_ELEMENT = /<Encrypt>(?:\s*<!\[CDATA\[([^\]]*)\]\]>\s*|([^<]*))<\/Encrypt>/;
/** What `<Encrypt>` may hold: base64, and whitespace that is dropped. */
const BASE64_TEXT = /^[A-Za-z0-9+/=\s]*$/;

/** The answer WeCom expects once a callback is taken (path/90238). */
export const WECOM_ACK: HttpReply = { status: 200, contentType: 'text/plain; charset=utf-8', body: 'success' };

export interface OpenedWecomCallback {
  /** The decrypted message's fields (`MsgType`, `FromUserName`, nested `From`, …), values as strings. */
  message: Record<string, unknown>;
  /** How WeCom's request looked, so `format: raw` subscribers get it verifiable as it came. */
  rawRequest: RawRequestShape;
}

/**
 * `GET` URL verification: checks the signature over `echostr`, decrypts it and answers the
 * plaintext exactly (no quotes, no newline), as WeCom compares it byte for byte.
 */
export function answerWecomUrlCheck(keys: WecomCallbackKeys, req: InboundRequest): HttpReply {
  const query = signedQuery(req.rawQuery);
  const echostr = query.echostr;
  if (!echostr) throw new ImgateError('IMG_ERR_INBOUND_UNSUPPORTED', { message: 'a WeCom URL check needs echostr' });
  checkFreshness(keys, query.timestamp, req.receivedAt);
  verifyWecomSignature(keys.token, query, echostr);
  return { status: 200, contentType: 'text/plain; charset=utf-8', body: decryptWecomMessage(keys.key, echostr, keys.receiveId) };
}

/**
 * `POST`: the outer `<xml><Encrypt>` checked against `msg_signature`, decrypted and parsed. The
 * signature is checked before any XML is parsed, so an unauthenticated body costs one regex scan.
 */
export function openWecomCallback(keys: WecomCallbackKeys, req: InboundRequest): OpenedWecomCallback {
  const query = signedQuery(req.rawQuery);
  checkFreshness(keys, query.timestamp, req.receivedAt);
  const found = ENCRYPT_ELEMENT.exec(req.rawBody.toString('utf8'));
  const text = found?.[1] ?? found?.[2];
  const encrypt = text !== undefined && BASE64_TEXT.test(text) ? text.replace(/\s+/g, '') : undefined;
  if (encrypt === undefined || encrypt === '') {
    throw new ImgateError('IMG_ERR_INBOUND_MALFORMED', { message: 'the WeCom callback has no <Encrypt>' });
  }
  verifyWecomSignature(keys.token, query, encrypt);
  const message = xmlRoot(decryptWecomMessage(keys.key, encrypt, keys.receiveId));
  const contentType = req.headers['content-type'] ?? 'text/xml';
  return { message, rawRequest: { contentType, query: req.rawQuery } };
}

/**
 * A WeCom callback by its method: `GET` is the URL check the admin console runs when the callback
 * URL is saved (answered here), `POST` a message or event (opened here); any other method is
 * refused. `who` names the callbacks in that refusal.
 */
export function receiveWecomCallback(
  keys: WecomCallbackKeys,
  req: InboundRequest,
  who: string,
): { kind: 'reply'; reply: HttpReply } | { kind: 'opened'; opened: OpenedWecomCallback } {
  if (req.method === 'GET') return { kind: 'reply', reply: answerWecomUrlCheck(keys, req) };
  if (req.method !== 'POST') throw new ImgateError('IMG_ERR_INBOUND_METHOD', { message: `${who} callbacks are GET (URL check) or POST requests` });
  return { kind: 'opened', opened: openWecomCallback(keys, req) };
}

/**
 * The query parameters, each percent-decoded on its own: a `+` stays a `+`. WeCom's base64
 * `echostr` holds `+` and `/`, and form-style decoding (which turns `+` into a space) breaks it.
 */
export function signedQuery(rawQuery: string): Record<string, string | undefined> {
  const query: Record<string, string | undefined> = {};
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const split = pair.indexOf('=');
    const name = split === -1 ? pair : pair.slice(0, split);
    const value = split === -1 ? '' : pair.slice(split + 1);
    try {
      query[decodeURIComponent(name)] = decodeURIComponent(value);
    } catch {
      throw new ImgateError('IMG_ERR_INBOUND_MALFORMED', { message: 'the query string is not valid percent-encoding' });
    }
  }
  return query;
}

function xmlRoot(text: string): Record<string, unknown> {
  const root = parseXmlSafely(text).xml;
  if (root === null || typeof root !== 'object' || Array.isArray(root)) {
    throw new ImgateError('IMG_ERR_INBOUND_MALFORMED', { message: 'the WeCom callback is not an <xml> document' });
  }
  return root as Record<string, unknown>;
}

function checkFreshness(keys: WecomCallbackKeys, timestamp: string | undefined, receivedAt: Date): void {
  if (keys.timestampWindowSeconds === 0 || timestamp === undefined) return;
  const seconds = Number(timestamp);
  if (!Number.isFinite(seconds) || Math.abs(receivedAt.getTime() / 1000 - seconds) > keys.timestampWindowSeconds) {
    throw new ImgateError('IMG_ERR_INBOUND_STALE_TIMESTAMP');
  }
}
