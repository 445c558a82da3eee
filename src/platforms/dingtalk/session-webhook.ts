import type { UnifiedEvent } from '../../core/event.ts';
import { ImgateError } from '../../core/errors.ts';
import { platformRequest, redactSecrets } from '../_kit/platform-http.ts';
import { trustedReplyUrl } from '../_kit/reply-url.ts';

/** Where DingTalk's session webhooks live (https://open.dingtalk.com/document/orgapp/receive-message). */
const SESSION_WEBHOOK_HOSTS = ['oapi.dingtalk.com'];

type Json = Record<string, unknown>;

/** A reply target taken from a stored callback: where to post, and the secret to keep out of errors. */
export interface SessionWebhook {
  url: string;
  /** The `session` query value, a credential for this chat. */
  session: string;
}

/** What the sessionWebhook answered: sent, or gone (DingTalk forgot the session before its expiry). */
export type SessionOutcome = 'sent' | 'gone';

/**
 * errcode 300001 "session 不存在": the session ended, sometimes well before the expiry the callback
 * announced (seen in agentscope-ai/agentscope#1318, QwenPaw#1435). Nothing was posted, so the
 * message goes through the robot API instead.
 */
const SESSION_GONE_ERRCODE = 300001;
/** "send too fast, exceed 20 times per minute", the webhook robots' limit. */
const RATE_ERRCODE = 130101;
const RATE_RETRY_AFTER_SECONDS = 60;

/**
 * The callback's sessionWebhook while it can still be used: `/robot/sendBySession` with a `session`
 * on DingTalk's own host (or the channel's `apiBase`; see `_kit/reply-url.ts`), and
 * `sessionWebhookExpiredTime` still ahead. Anything else is not posted to, least of all with a
 * token: the webhook needs none.
 */
export function usableSessionWebhook(event: UnifiedEvent, payload: unknown, now: number, apiBase: string | undefined): SessionWebhook | null {
  if (event.platform !== 'dingtalk' || payload === null || typeof payload !== 'object') return null;
  const { sessionWebhook, sessionWebhookExpiredTime } = payload as Json;
  const expiresAt = Number(sessionWebhookExpiredTime);
  if (!Number.isFinite(expiresAt) || expiresAt <= now) return null;
  const trusted = trustedReplyUrl(sessionWebhook, { hosts: SESSION_WEBHOOK_HOSTS, apiBase, path: '/robot/sendBySession', credential: 'session' });
  return trusted && { url: trusted.url, session: trusted.credential };
}

/**
 * Posts one message to a sessionWebhook: `{msgtype: "text", text: {content}, at: {atUserIds,
 * isAtAll: false}}` or `{msgtype: "markdown", markdown: {title, text}, at}` (DingTalk's official
 * dingtalk-stream SDK posts these bodies, without a token). It answers `{errcode, errmsg}`.
 */
export async function postToSessionWebhook(webhook: SessionWebhook, body: Json): Promise<SessionOutcome> {
  const secrets = [webhook.url, webhook.session];
  let answer: unknown;
  try {
    answer = await platformRequest({ url: webhook.url, body, redact: secrets });
  } catch (error) {
    // A refusal with an HTTP error status may still carry the errcode.
    if (error instanceof ImgateError && error.code === 'IMG_ERR_PLATFORM_REJECTED' && errcodeIn(error.details?.body) === SESSION_GONE_ERRCODE) {
      return 'gone';
    }
    throw error;
  }
  return checkSessionAnswer(answer, secrets);
}

function checkSessionAnswer(answer: unknown, secrets: string[]): SessionOutcome {
  if (answer === null || typeof answer !== 'object' || Array.isArray(answer)) {
    throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: 'the DingTalk sessionWebhook answered something that is not a JSON object' });
  }
  const body = answer as Json;
  const errcode = body.errcode === undefined ? 0 : Number(body.errcode);
  if (errcode === 0) return 'sent';
  if (errcode === SESSION_GONE_ERRCODE) return 'gone';
  const errmsg = redactSecrets(typeof body.errmsg === 'string' ? body.errmsg : '', secrets);
  const details = { errcode, errmsg };
  const message = `the DingTalk sessionWebhook answered errcode ${errcode}: ${errmsg}`;
  if (errcode === RATE_ERRCODE) throw new ImgateError('IMG_ERR_PLATFORM_RATE_LIMITED', { message, details, retryAfter: RATE_RETRY_AFTER_SECONDS });
  throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message, details });
}

function errcodeIn(body: unknown): number | null {
  if (typeof body !== 'string') return null;
  try {
    const parsed = JSON.parse(body) as { errcode?: unknown };
    return parsed.errcode === undefined ? null : Number(parsed.errcode);
  } catch {
    return null;
  }
}
