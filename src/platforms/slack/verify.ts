import { createHmac } from 'node:crypto';
import { ImgateError } from '../../core/errors.ts';
import type { InboundRequest } from '../_kit/adapter.ts';
import { requestHeader } from '../_kit/request-header.ts';
import { signatureEquals } from '../_kit/timing-safe.ts';

/** Unix seconds, as Slack sends them in `X-Slack-Request-Timestamp`. */
const TIMESTAMP = /^\d{1,12}$/;

/**
 * `X-Slack-Signature` of a request: `v0=` and the hex HMAC-SHA256, keyed with the signing secret,
 * of `v0:` + `X-Slack-Request-Timestamp` + `:` + the raw body
 * (https://api.slack.com/authentication/verifying-requests-from-slack).
 */
export function slackSignature(signingSecret: string, timestamp: string, body: Buffer | string): string {
  const hmac = createHmac('sha256', signingSecret);
  hmac.update(`v0:${timestamp}:`, 'utf8');
  hmac.update(body);
  return `v0=${hmac.digest('hex')}`;
}

/**
 * Checks a request's signature over its raw bytes, compared in constant time, then its timestamp:
 * more than `windowSeconds` from now either way is refused, as Slack advises against replays.
 * The signature comes first, so an unsigned request learns nothing about the clock.
 */
export function verifySlackRequest(signingSecret: string, windowSeconds: number, req: InboundRequest): void {
  const timestamp = requestHeader(req, 'x-slack-request-timestamp')?.trim();
  const signature = requestHeader(req, 'x-slack-signature')?.trim();
  if (!timestamp || !signature) {
    throw new ImgateError('IMG_ERR_INBOUND_BAD_SIGNATURE', { message: 'the X-Slack-Request-Timestamp and X-Slack-Signature headers are required' });
  }
  if (!TIMESTAMP.test(timestamp) || !signatureEquals(signature, slackSignature(signingSecret, timestamp, req.rawBody))) {
    throw new ImgateError('IMG_ERR_INBOUND_BAD_SIGNATURE');
  }
  // Whole seconds on both sides, as the header counts them (and as Bolt's verifier compares).
  if (Math.abs(Math.floor(req.receivedAt.getTime() / 1000) - Number(timestamp)) > windowSeconds) {
    throw new ImgateError('IMG_ERR_INBOUND_STALE_TIMESTAMP');
  }
}
