import { DiscordAPIError, HTTPError, REST, RateLimitError, type RateLimitData } from '@discordjs/rest';
import { ImgateError } from '../../core/errors.ts';
import { gatewayStatusOutcome, networkFailureOutcome, redactSecrets } from '../_kit/platform-http.ts';
import { apiBaseOf, type DiscordChannelConfig } from './config.ts';

/** Milliseconds one Discord API call may take, as for every other platform call (platform-http.ts). */
const REQUEST_TIMEOUT_MS = 10_000;
/** Discord's error codes worth a sentence an operator can act on (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json). */
const EXPLAIN: Record<number, string> = {
  10003: 'Discord knows no such channel: `to` must be the id of a channel (or DM channel) the bot can see',
  50001: 'the bot has no access to this channel: invite it to the server and let it view the channel',
  50007: 'Discord does not let the bot message this user (DMs closed, or no server in common)',
  50013: 'the bot lacks a permission in this channel: Send Messages (and Embed Links or Attach Files for images, Read Message History for replies)',
};

/**
 * The Discord API client of one channel. @discordjs/rest (discord.js's own) is used rather than
 * written again: it keeps one queue per rate-limit bucket from the `X-RateLimit-*` headers, holds
 * every request under the global 50 a second, and on a 429 waits out `Retry-After` before trying
 * again. `rejectOnRateLimit` turns any such wait longer than `rateLimit.maxWaitSeconds` into a
 * RateLimitError at once, which the caller gets as 429 with `retry_after`. Its own retries are off:
 * the send service retries what is unreachable.
 */
export function createDiscordRest(config: DiscordChannelConfig): REST {
  const maxWaitMs = config.rateLimit.maxWaitSeconds * 1000;
  return new REST({
    api: apiBaseOf(config),
    retries: 0,
    timeout: REQUEST_TIMEOUT_MS,
    rejectOnRateLimit: (limit: RateLimitData) => waitOf(limit) > maxWaitMs,
  });
}

/**
 * Runs one call with the bot token, turning the client's errors into imgate's. The token is set
 * before every call because the client forgets it after any 401, and the configured token is the
 * only one there is. `secrets` (an interaction token in a webhook path) are blanked from messages.
 */
export async function callDiscord<T>(rest: REST, token: string, what: string, call: (rest: REST) => Promise<T>, secrets: string[] = []): Promise<T> {
  rest.setToken(token);
  try {
    return await call(rest);
  } catch (error) {
    throw discordError(error, what, [token, ...secrets]);
  }
}

/** A wait the client announces: a 429's Retry-After, or the time until the bucket or global limit resets. */
function waitOf(limit: RateLimitData): number {
  return Math.max(limit.timeToReset, limit.retryAfter, limit.sublimitTimeout);
}

function discordError(error: unknown, what: string, secrets: string[]): ImgateError {
  if (error instanceof ImgateError) return error;
  if (error instanceof RateLimitError) {
    return new ImgateError('IMG_ERR_PLATFORM_RATE_LIMITED', {
      message: `Discord's rate limit holds ${what} back ${error.global ? '(the global limit) ' : ''}for longer than rateLimit.maxWaitSeconds`,
      details: { global: error.global, scope: error.scope },
      retryAfter: Math.max(1, Math.ceil(waitOf(error) / 1000)),
    });
  }
  if (error instanceof DiscordAPIError) {
    const code = typeof error.code === 'number' ? error.code : null;
    const platformMessage = redactSecrets(error.message, secrets);
    const details = { httpStatus: error.status, code: error.code, message: platformMessage };
    if (error.status === 401) {
      return new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: `Discord refused the bot token (401) for ${what}: check the channel's token`, details });
    }
    const explained = code === null ? undefined : EXPLAIN[code];
    return new ImgateError('IMG_ERR_PLATFORM_REJECTED', {
      message: explained ?? `Discord answered ${what} with HTTP ${error.status}${code === null ? '' : ` code ${code}`}: ${platformMessage}`,
      details,
    });
  }
  if (error instanceof HTTPError) {
    // 502, 503 and 504 are unreachable, as platformRequest maps them, with the same outcome.
    const outcome = gatewayStatusOutcome(error.status);
    const message = `Discord answered ${what} with HTTP ${error.status}`;
    if (outcome !== null) return new ImgateError('IMG_ERR_PLATFORM_UNREACHABLE', { message, details: { httpStatus: error.status, outcome } });
    return new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message, details: { httpStatus: error.status } });
  }
  const reason = networkReason(error);
  if (reason !== null) {
    return new ImgateError('IMG_ERR_PLATFORM_UNREACHABLE', {
      message: `${what} failed: ${reason}`,
      details: { reason, outcome: networkFailureOutcome(error) },
    });
  }
  // Anything else is wrapped, its text redacted: it may name the request's URL, which can hold an interaction token.
  const text = error instanceof Error ? error.message : String(error);
  return new ImgateError('IMG_ERR_INTERNAL', { message: redactSecrets(`${what} failed: ${text}`, secrets) });
}

/** A timeout or a network error (which carry a `code` such as ECONNREFUSED); null for anything else. */
function networkReason(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  if (error.name === 'AbortError' || error.name === 'TimeoutError') return 'timed out';
  const code = (error as { code?: unknown }).code ?? (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : null;
}
