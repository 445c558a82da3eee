import { createHash, randomBytes } from 'node:crypto';
import { ImgateError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import type { GatewayMetrics } from '../metrics/gateway-metrics.ts';
import type { ChannelAdapter, SendRequest, SendResult } from '../platforms/_kit/adapter.ts';
import { InFlight } from '../platforms/_kit/in-flight.ts';
import { sendOutcomeOf } from '../platforms/_kit/platform-http.ts';
import type { ApiKeyRecord, Store } from '../store/store.ts';
import type { SendInput } from './send-input.ts';
import { callWithRetry, mayHaveSent } from './send-retry.ts';
import { interruptedError, recordedError, shutdownRecord, unknownOutcomeError, unknownOutcomeRecord } from './unknown-outcome.ts';

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

/** An idempotency claim this process holds while its send runs. */
interface OpenClaim {
  scope: string;
  key: string;
}

/**
 * The one outbound path: authorize, deduplicate by idempotency key, resolve `replyTo`, call the
 * platform (retrying only what is safe to retry), record the message.
 */
export class SendService {
  /** The last send under way in this process for each idempotency scope+key. */
  private readonly running = new Map<string, Promise<void>>();
  /** Every send under way, for `drain`. */
  private readonly inFlight = new InFlight();
  /** Claims taken and not yet completed or released: what `drain` marks when it gives up waiting. */
  private readonly openClaims = new Set<OpenClaim>();
  private stopping = false;

  constructor(
    private readonly store: Store,
    private readonly channels: (id: string) => SendChannel | undefined,
    private readonly logger: Logger,
    private readonly metrics: GatewayMetrics,
  ) {}

  send(input: SendInput, apiKey: ApiKeyRecord, idempotencyKey: string | undefined): Promise<SendResponse> {
    if (this.stopping) return Promise.reject(new ImgateError('IMG_ERR_SHUTTING_DOWN'));
    return this.inFlight.track(this.authorizedSend(input, apiKey, idempotencyKey));
  }

  /**
   * Takes no more sends and waits up to `timeoutMs` for those under way, including those whose
   * client has hung up (the HTTP server's close does not wait for them), so that each records its
   * result before the store closes. A send still waiting for its platform after that has its
   * idempotency key recorded as "outcome unknown": a retry after the restart then cannot send the
   * message a second time.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.stopping = true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const finished = await Promise.race([this.inFlight.settled().then(() => true), timedOut]);
    clearTimeout(timer);
    if (finished) return;
    const claims = [...this.openClaims];
    this.logger.warn({ idempotencyKeys: claims.length }, 'sends are still waiting for their platform at shutdown; their idempotency keys now answer that the outcome is unknown');
    await Promise.all(
      claims.map((claim) =>
        this.store
          .completeIdempotencyKey(claim.scope, claim.key, shutdownRecord())
          .catch((error: unknown) => this.logger.error({ err: error }, 'could not record an unfinished send')),
      ),
    );
  }

  private async authorizedSend(input: SendInput, apiKey: ApiKeyRecord, idempotencyKey: string | undefined): Promise<SendResponse> {
    if (!apiKey.channels.includes('*') && !apiKey.channels.includes(input.channel)) {
      throw new ImgateError('IMG_ERR_AUTH_SCOPE', { details: { channel: input.channel } });
    }
    const channel = this.channels(input.channel);
    if (!channel) throw new ImgateError('IMG_ERR_SEND_UNKNOWN_CHANNEL', { details: { channel: input.channel } });
    const key = idempotencyKey ?? input.requestId;
    if (key === undefined) return this.deliver(channel, input, randomBytes(32).toString('hex'), false);

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
    const claim = await this.store.claimIdempotencyKey(scope, key, requestHash(input), ABANDONED_CLAIM_MS);
    switch (claim.state) {
      case 'done': {
        const recorded = recordedError(claim.response);
        if (recorded) throw recorded;
        return claim.response as SendResponse;
      }
      case 'conflict':
        throw new ImgateError('IMG_ERR_IDEMPOTENCY_CONFLICT');
      case 'in_progress':
        throw new ImgateError('IMG_ERR_IDEMPOTENCY_IN_PROGRESS');
      case 'interrupted': {
        // Its gateway died after calling the platform: the message may be there, so the key keeps
        // this answer from now on instead of sending again.
        const error = interruptedError();
        await this.store.completeIdempotencyKey(scope, key, unknownOutcomeRecord(error));
        throw error;
      }
      case 'new':
        break;
    }

    const open: OpenClaim = { scope, key };
    this.openClaims.add(open);
    let response: SendResponse;
    try {
      // From here a crash leaves the key `interrupted`, not free for another process to send again.
      await this.store.markIdempotencyCalling(scope, key);
      response = await this.deliver(channel, input, platformKey(scope, key), true);
    } catch (error) {
      this.openClaims.delete(open);
      if (error instanceof ImgateError && sendOutcomeOf(error) === 'unknown') {
        // The platform may have it: the key keeps this answer, so no retry can send it again.
        await this.store.completeIdempotencyKey(scope, key, unknownOutcomeRecord(error)).catch((recordError: unknown) =>
          this.logger.error({ err: recordError, channel: channel.id }, 'could not record a send of unknown outcome'),
        );
      } else {
        // Not sent: the caller may try again with the same key.
        await this.store.releaseIdempotencyKey(scope, key).catch((releaseError: unknown) =>
          this.logger.error({ err: releaseError, channel: channel.id }, 'could not release an idempotency key'),
        );
      }
      throw error;
    }
    this.openClaims.delete(open);
    // Sent: from here on the key must never be released, or a retry would send the message twice.
    await this.store.completeIdempotencyKey(scope, key, response).catch((error: unknown) =>
      this.logger.error({ err: error, channel: channel.id, messageId: response.messageId }, 'could not record an idempotent send'),
    );
    return response;
  }

  /** `keyed`: the send has an idempotency key (its answer is recorded under it). */
  private async deliver(channel: SendChannel, input: SendInput, idempotencyKey: string, keyed: boolean): Promise<SendResponse> {
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
    const request: SendRequest = {
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
    // Asked once, before the first call: the way a send goes may depend on the time (a Discord
    // interaction followup until its token expires), and the answer must hold for every attempt.
    const dedupedByPlatform = adapter.dedupedByPlatform?.(request) ?? false;
    let result: SendResult;
    try {
      result = await callWithRetry(() => adapter.send!(request), { dedupedByPlatform, stopping: () => this.stopping });
    } catch (caught) {
      const error = caught instanceof ImgateError && mayHaveSent(caught) ? unknownOutcomeError(caught, keyed) : caught;
      this.metrics.send(channel.id, error instanceof ImgateError ? error.status : 500);
      this.logger.warn(
        {
          channel: channel.id,
          conversationId: input.to,
          status: error instanceof ImgateError ? error.status : 500,
          latencyMs: elapsed(started),
          code: (error as ImgateError).code,
          outcome: sendOutcomeOf(error) ?? undefined,
        },
        'send failed',
      );
      throw error;
    }
    this.metrics.send(channel.id, 200);
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

/**
 * The key an adapter gets for a keyed send: the platforms' dedup fields (Feishu's uuid, Discord's
 * nonce, QQ's msg_seq) are per chat, not per API key, so the client's key alone would let two API
 * keys using the same requestId collide, and the platform would drop the second message.
 */
function platformKey(scope: string, key: string): string {
  return createHash('sha256').update(`${scope}\n${key}`).digest('hex');
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
