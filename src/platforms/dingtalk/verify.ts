import { createHmac } from 'node:crypto';
import { ImgateError } from '../../core/errors.ts';
import type { InboundRequest } from '../_kit/adapter.ts';
import { signatureEquals } from '../_kit/timing-safe.ts';
import { requestHeader } from '../_kit/request-header.ts';

/** A millisecond timestamp: 1 to 16 digits (16 reach the year 318857). */
const TIMESTAMP = /^\d{1,16}$/;

/**
 * The `sign` header of a robot callback: base64(HMAC-SHA256(key = appSecret, timestamp + "\n" +
 * appSecret)), the `timestamp` header (milliseconds) as sent (机器人接收消息, "sign的计算方法";
 * https://open.dingtalk.com/document/orgapp/receive-message). The same formula signs a custom
 * robot's webhook URL, whose docs add a URL encoding that the callback header does not carry.
 */
export function dingtalkSign(timestamp: string, appSecret: string): string {
  return createHmac('sha256', appSecret).update(`${timestamp}\n${appSecret}`, 'utf8').digest('base64');
}

/**
 * Checks the `timestamp` and `sign` headers: the sign first, compared in constant time, then the
 * window (DingTalk's rule is one hour), so an unsigned request learns nothing about the clock.
 * The sign covers the timestamp only, not the body — the window is all that limits a replay — so
 * the window check is kept even where clocks drift (0 turns it off, with a startup warning).
 */
export function verifyDingtalkRequest(appSecret: string, timestampWindowSeconds: number, req: InboundRequest): void {
  const timestamp = requestHeader(req, 'timestamp')?.trim();
  const sign = requestHeader(req, 'sign')?.trim();
  if (!timestamp || !sign) {
    throw new ImgateError('IMG_ERR_INBOUND_BAD_SIGNATURE', { message: 'the timestamp and sign headers are required' });
  }
  if (!signatureEquals(sign, dingtalkSign(timestamp, appSecret))) throw new ImgateError('IMG_ERR_INBOUND_BAD_SIGNATURE');
  if (timestampWindowSeconds === 0) return;
  const sentAt = TIMESTAMP.test(timestamp) ? Number(timestamp) : NaN;
  if (!Number.isFinite(sentAt) || Math.abs(req.receivedAt.getTime() - sentAt) > timestampWindowSeconds * 1000) {
    throw new ImgateError('IMG_ERR_INBOUND_STALE_TIMESTAMP');
  }
}
