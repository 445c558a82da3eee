import { createHmac } from 'node:crypto';
import { ImgateError } from '../../core/errors.ts';
import type { InboundRequest } from '../_kit/adapter.ts';
import { safeEqual, signatureEquals } from '../_kit/timing-safe.ts';
import type { WechatPadChannelConfig } from './config.ts';
import { requestHeader } from '../_kit/request-header.ts';

/** Timestamps above this are milliseconds: 1e12 s is the year 33658, 1e12 ms is 2001. */
const MILLISECOND_THRESHOLD = 1e12;

/** Authenticates a callback by the channel's `auth` mode; runs before the body is parsed. */
export function verifyWechatPadRequest(config: WechatPadChannelConfig, req: InboundRequest): void {
  switch (config.auth) {
    case 'signature':
      return verifySignature(config, req);
    case 'path-token':
      if (req.pathToken === undefined || !config.pathToken || !safeEqual(req.pathToken, config.pathToken)) {
        throw new ImgateError('IMG_ERR_INBOUND_BAD_TOKEN');
      }
      return;
    case 'none':
      return;
  }
}

function verifySignature(config: WechatPadChannelConfig, req: InboundRequest): void {
  const secret = config.secret;
  if (!secret) throw new ImgateError('IMG_ERR_INBOUND_BAD_SIGNATURE', { message: 'the channel has no secret' });

  const padSignature = requestHeader(req, 'x-webhook-signature');
  if (padSignature !== undefined) return verifyTimestampedSignature(config, secret, padSignature, req);

  const abotSignature = requestHeader(req, 'x-wechat-abot-signature');
  if (abotSignature !== undefined) {
    // OpenClaw wechat_abot contract (docs/channels/wechat-pad.md, "Raw pad JSON"): `sha256=` + hex HMAC-SHA256 over the raw body only.
    const expected = `sha256=${createHmac('sha256', secret).update(req.rawBody).digest('hex')}`;
    if (!signatureEquals(abotSignature.trim().toLowerCase(), expected)) throw new ImgateError('IMG_ERR_INBOUND_BAD_SIGNATURE');
    return;
  }
  throw new ImgateError('IMG_ERR_INBOUND_BAD_SIGNATURE', {
    message: 'X-Webhook-Signature or X-Wechat-Abot-Signature is required',
  });
}

/**
 * The webhook guide signs `timestamp + ":" + body`; WeChatPadPro's official client
 * (WeChatPadPro/wechatpad-webhook-client) signs `timestamp + body` (docs/channels/wechat-pad.md,
 * "Flat JSON") — hence `signatureFormat`. The timestamp is checked after the signature so an
 * unsigned request learns nothing about the clock.
 */
function verifyTimestampedSignature(
  config: WechatPadChannelConfig,
  secret: string,
  signature: string,
  req: InboundRequest,
): void {
  const timestamp = requestHeader(req, 'x-webhook-timestamp');
  if (timestamp === undefined) {
    throw new ImgateError('IMG_ERR_INBOUND_BAD_SIGNATURE', {
      message: 'X-Webhook-Timestamp is required with X-Webhook-Signature',
    });
  }
  const separator = config.signatureFormat === 'concat' ? '' : ':';
  const expected = createHmac('sha256', secret).update(`${timestamp}${separator}`).update(req.rawBody).digest('hex');
  if (!signatureEquals(signature.trim().toLowerCase(), expected)) throw new ImgateError('IMG_ERR_INBOUND_BAD_SIGNATURE');

  const sentAtMs = timestampMs(timestamp);
  const windowMs = config.timestampWindowSeconds * 1000;
  if (sentAtMs === null || Math.abs(req.receivedAt.getTime() - sentAtMs) > windowMs) {
    throw new ImgateError('IMG_ERR_INBOUND_STALE_TIMESTAMP');
  }
}

function timestampMs(value: string): number | null {
  if (!/^\d{1,16}$/.test(value.trim())) return null;
  const n = Number(value.trim());
  return n > MILLISECOND_THRESHOLD ? n : n * 1000;
}
