import { ImgateError } from '../../core/errors.ts';
import type { CallbackOutcome, HttpReply, InboundRequest } from '../_kit/adapter.ts';
import { parseJsonBody } from '../_kit/json-body.ts';
import { displayText, jsonObject, scalarText, type Json } from '../_kit/payload-values.ts';
import type { QqChannelConfig } from './config.ts';
import { normalizeQqDispatch } from './normalize.ts';
import { qqSign, verifyQqSignature } from './signature.ts';
import type { QqPayload, QqValidationData } from './types.ts';
import { requestHeader } from '../_kit/request-header.ts';

const OP_DISPATCH = 0;
const OP_CALLBACK_ACK = 12;
const OP_URL_VALIDATION = 13;

/**
 * op 12, "HTTP Callback ACK": what QQ expects once a dispatch is taken (event-emit.md, OpCode 含义).
 * `d: 0` as tencent-connect's own webhook transport answers.
 */
export const QQ_ACK: HttpReply = { status: 200, contentType: 'application/json', body: { op: OP_CALLBACK_ACK, d: 0 } };

/**
 * The op 13 fields, narrowed to what QQ sends (`"event_ts": "1725442341"`, `"plain_token":
 * "Arq0D5A61EgUu4OxUvOp"`). QQ's documented example comes unsigned, so an unsigned op 13 is answered;
 * but the answer is our signature over `event_ts + plain_token`, and with free-form fields an unsigned
 * op 13 would sign anything: `event_ts` = a timestamp and `plain_token` = an event body gives a valid
 * `X-Signature-Ed25519` for a forged dispatch. Digits and a token of letters and digits can never
 * spell a JSON object (it needs `{`), so no answer is ever a dispatch's signature.
 */
const EVENT_TS = /^\d{1,20}$/;
const PLAIN_TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * `POST /hooks/<id>` in webhook mode (event-emit.md, "Webhook方式"; sign.md):
 *
 * 1. with `X-Signature-Ed25519`, the signature over `X-Signature-Timestamp` ‖ raw body is checked
 *    before the body is read (401 when wrong);
 * 2. op 13 (URL validation) is answered `{plain_token, signature}` at once, signed or not (see
 *    PLAIN_TOKEN), nothing stored;
 * 3. op 0 (dispatch) must be signed; the message events are stored, then acknowledged with op 12;
 *    other dispatch types are acknowledged and dropped.
 */
export function handleQqCallback(config: QqChannelConfig, req: InboundRequest): CallbackOutcome {
  if (req.method !== 'POST') throw new ImgateError('IMG_ERR_INBOUND_METHOD', { message: 'QQ bot callbacks are POST requests' });
  if (config.mode === 'websocket') {
    throw new ImgateError('IMG_ERR_INBOUND_UNSUPPORTED', {
      message: `channel "${config.id}" is in websocket mode and takes no callbacks; set mode: webhook to receive them here`,
    });
  }
  const signature = requestHeader(req, 'x-signature-ed25519');
  const signed = signature !== undefined;
  if (signed) checkSignature(config.secret, req, signature);

  const payload = parseJsonObject(req.rawBody) as QqPayload;
  const op = payload.op;
  if (op === OP_URL_VALIDATION) return { kind: 'reply', reply: answerValidation(config.secret, payload.d) };
  if (op !== OP_DISPATCH) throw unsupported(`op ${displayText(op)} is not a callback QQ sends (0 dispatch, 13 URL validation)`);
  if (!signed) throw new ImgateError('IMG_ERR_INBOUND_BAD_SIGNATURE', { message: 'the X-Signature-Ed25519 and X-Signature-Timestamp headers are required' });

  const event = normalizeQqDispatch(payload, req.receivedAt);
  if (event === null) return { kind: 'reply', reply: QQ_ACK };
  return { kind: 'events', events: [event], ack: QQ_ACK };
}

/** QQ documents no timestamp window: the timestamp is signed with the body, and dedup stops replays. */
function checkSignature(secret: string, req: InboundRequest, signature: string): void {
  const timestamp = requestHeader(req, 'x-signature-timestamp');
  if (timestamp === undefined || !verifyQqSignature(secret, timestamp, req.rawBody, signature.trim())) {
    throw new ImgateError('IMG_ERR_INBOUND_BAD_SIGNATURE');
  }
}

/** op 13: `{plain_token, signature: hex(Ed25519(event_ts + plain_token))}` (event-emit.md, 回调地址验证). */
function answerValidation(secret: string, data: unknown): HttpReply {
  const fields = (jsonObject(data) ?? {}) as QqValidationData;
  const eventTs = scalarText(fields.event_ts);
  const plainToken = scalarText(fields.plain_token);
  if (eventTs === null || plainToken === null || !EVENT_TS.test(eventTs) || !PLAIN_TOKEN.test(plainToken)) {
    throw unsupported('the URL validation (op 13) needs d.event_ts (digits) and d.plain_token (letters and digits)');
  }
  return {
    status: 200,
    contentType: 'application/json',
    body: { plain_token: plainToken, signature: qqSign(secret, eventTs + plainToken) },
  };
}

function parseJsonObject(raw: Buffer): Json {
  const body = jsonObject(parseJsonBody(raw));
  if (body === null) throw new ImgateError('IMG_ERR_INBOUND_MALFORMED', { message: 'the QQ callback body is not a JSON object' });
  return body;
}

function unsupported(message: string): ImgateError {
  return new ImgateError('IMG_ERR_INBOUND_UNSUPPORTED', { message });
}
