import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ImgateError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import type { ChannelAdapter, SendResult } from '../platforms/_kit/adapter.ts';
import type { ApiKeyRecord, Store } from '../store/store.ts';
import type { SendInput } from './send-input.ts';

export interface SendResponse {
  messageId: string;
  platformMessageId: string | null;
  channel: string;
  to: string;
}

export interface SendChannel {
  id: string;
  adapter: ChannelAdapter;
}

/**
 * A claim older than this with no result belongs to a process that died mid-send: one send takes
 * at most three platform calls of 10 s each plus backoff, so two minutes is far beyond a live one.
 */
const ABANDONED_CLAIM_MS = 120_000;

/** Waits before the 2nd and 3rd platform call when the platform was unreachable (502/503/network). */
const RETRY_BACKOFF_MS = [250, 1000];

/**
 * The one outbound path: authorize, deduplicate by idempotency key, resolve `replyTo`, call the
 * platform (retrying only what is safe to retry), record the message.
 */
export class SendService {
  /** The last send under way in this process for each idempotency scope+key. */
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly channels: (id: string) => SendChannel | undefined,
    private readonly logger: Logger,
  ) {}

  async send(input: SendInput, apiKey: ApiKeyRecord, idempotencyKey: string | undefined): Promise<SendResponse> {
    if (!apiKey.channels.includes('*') && !apiKey.channels.includes(input.channel)) {
      throw new ImgateError('IMG_ERR_AUTH_SCOPE', { details: { channel: input.channel } });
    }
    const channel = this.channels(input.channel);
    if (!channel) throw new ImgateError('IMG_ERR_SEND_UNKNOWN_CHANNEL', { details: { channel: input.channel } });
    const key = idempotencyKey ?? input.requestId;
    if (key === undefined) return this.deliver(channel, input, randomUUID());

    const scope = `${apiKey.id}:${input.channel}`;
    // Sends with one key queue up in this process: the gate is set before the first await, so a
    // concurrent twin waits for the first and then finds its answer instead of a 409.
    const runningKey = `${scope}\n${key}`;
    const previous = this.running.get(runningKey);
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    this.running.set(runningKey, gate);
    try {
      await previous;
      return await this.sendOnce(channel, input, scope, key);
    } finally {
      open();
      if (this.running.get(runningKey) === gate) this.running.delete(runningKey);
    }
  }

  private async sendOnce(channel: SendChannel, input: SendInput, scope: string, key: string): Promise<SendResponse> {
    const now = Date.now();
    const claim = await this.store.claimIdempotencyKey(scope, key, requestHash(input), now, now - ABANDONED_CLAIM_MS);
    if (claim.state === 'done') return claim.response as SendResponse;
    if (claim.state === 'conflict') throw new ImgateError('IMG_ERR_IDEMPOTENCY_CONFLICT');
    if (claim.state === 'in_progress') throw new ImgateError('IMG_ERR_IDEMPOTENCY_IN_PROGRESS');

    let response: SendResponse;
    try {
      response = await this.deliver(channel, input, key);
    } catch (error) {
      // Not sent: the caller may try again with the same key.
      await this.store.releaseIdempotencyKey(scope, key).catch((releaseError: unknown) =>
        this.logger.error({ err: releaseError, channel: channel.id }, 'could not release an idempotency key'),
      );
      throw error;
    }
    // Sent: from here on the key must never be released, or a retry would send the message twice.
    await this.store.completeIdempotencyKey(scope, key, response).catch((error: unknown) =>
      this.logger.error({ err: error, channel: channel.id, messageId: response.messageId }, 'could not record an idempotent send'),
    );
    return response;
  }

  private async deliver(channel: SendChannel, input: SendInput, idempotencyKey: string): Promise<SendResponse> {
    const { adapter } = channel;
    if (!adapter.send) throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', { message: 'this channel cannot send' });
    if (input.news && !adapter.sendsNews) {
      throw new ImgateError('IMG_ERR_SEND_UNSUPPORTED', { message: 'this channel cannot send news (link cards); send text or markdown' });
    }
    const replyTo = input.replyTo ? await this.store.findEventByMessageId(channel.id, input.replyTo) : null;
    if (input.replyTo && !replyTo) {
      throw new ImgateError('IMG_ERR_SEND_UNKNOWN_MESSAGE', { details: { replyTo: input.replyTo } });
    }
    const started = performance.now();
    const request = {
      to: input.to,
      text: input.text,
      markdown: input.markdown,
      image: input.image,
      news: input.news,
      mentions: input.mentions ?? [],
      replyTo: replyTo?.event ?? null,
      replyToRaw: replyTo?.raw ?? null,
      idempotencyKey,
    };
    let result: SendResult;
    try {
      result = await callWithRetry(() => adapter.send!(request));
    } catch (error) {
      this.logger.warn(
        { channel: channel.id, conversationId: input.to, status: error instanceof ImgateError ? error.status : 500, latencyMs: elapsed(started), code: (error as ImgateError).code },
        'send failed',
      );
      throw error;
    }
    const messageId = newId('msg');
    // The platform has the message: failing to record it must not turn the send into an error.
    await this.store
      .insertOutboundMessage({
        id: messageId,
        channel: channel.id,
        to: input.to,
        platformMessageId: result.platformMessageId,
        replyToEventId: replyTo?.event.id ?? null,
        createdAt: Date.now(),
      })
      .catch((error: unknown) => this.logger.error({ err: error, channel: channel.id, messageId }, 'could not record a sent message'));
    this.logger.info({ channel: channel.id, conversationId: input.to, messageId, status: 200, latencyMs: elapsed(started) }, 'send');
    return { messageId, platformMessageId: result.platformMessageId, channel: channel.id, to: input.to };
  }
}

async function callWithRetry(call: () => Promise<SendResult>): Promise<SendResult> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      const backoff = RETRY_BACKOFF_MS[attempt];
      if (!(error instanceof ImgateError) || error.code !== 'IMG_ERR_PLATFORM_UNREACHABLE' || backoff === undefined) throw error;
      await sleep(backoff);
    }
  }
}

/** The body's identity for idempotency: the same key with another body is a conflict. */
function requestHash(input: SendInput): string {
  const { requestId: _ignored, ...rest } = input;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/** JSON with object keys sorted at every depth, so key order in the request does not matter. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
