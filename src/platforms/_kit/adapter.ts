import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { GuardedAgent } from '../../core/address-guard.ts';
import type { NormalizedEvent, UnifiedEvent } from '../../core/event.ts';
import type { IngestOutcome, SendSlots } from '../../store/store.ts';
import type { TokenService } from '../../tokens/token-service.ts';
import type { SimulatedCallback, SimulateOptions } from './callback-sample.ts';
import type { WecomCredential } from './wecom-api.ts';
import type { WecomCallbackKeys } from './wecom-callback.ts';

/** How an adapter's events are stored (`AdapterDeps.ingest`). */
export interface IngestOptions {
  /**
   * A cursor to store in the same transaction as the events (pull-based platforms); with
   * `expected`, only if the stored one is still that (see CursorUpdate).
   */
  cursor?: { key: string; value: string; expected?: string | null };
  /** More of this channel's values to store in the same transaction, unconditionally (a user's latest reply token). */
  values?: { key: string; value: string }[];
  /**
   * Deliver to exactly these subscriptions instead of those whose filters match (a WeCom KF
   * callback forwarded to the puppet registered for its OpenKfId).
   */
  targets?: string[];
}

/** A platform callback as it reached `/hooks/:channelId`, body untouched. */
export interface InboundRequest {
  method: string;
  headers: IncomingHttpHeaders;
  query: Record<string, string | undefined>;
  /** The query string exactly as sent, without `?` (signed queries, literal `+` in base64 values). */
  rawQuery: string;
  /** The `/hooks/:channelId/:pathToken` segment, when the request came that way. */
  pathToken: string | undefined;
  rawBody: Buffer;
  receivedAt: Date;
}

export interface HttpReply {
  status: number;
  contentType?: string;
  body: string | Buffer | Record<string, unknown> | null;
}

/**
 * What an adapter makes of a callback. `reply` is answered at once and nothing is stored (URL
 * checks, handshakes, notifications the platform wants no event for). `events` are stored first
 * and `ack` is answered only after the commit.
 */
export type CallbackOutcome =
  | { kind: 'reply'; reply: HttpReply }
  | { kind: 'events'; events: NormalizedEvent[]; ack: HttpReply };

export interface SendRequest {
  to: string;
  text?: string;
  markdown?: string;
  image?: { url?: string; base64?: string };
  /** Link cards; only adapters with `sendsNews` get them. */
  news?: { articles: NewsArticle[] };
  mentions: string[];
  /** The stored event being replied to, when `replyTo` named one. */
  replyTo: UnifiedEvent | null;
  /**
   * That event's platform payload (decrypted), for replies that need what only the payload carries:
   * a WeCom robot's WebhookUrl holds the robot's key, so it stays out of the event subscribers see.
   */
  replyToRaw?: unknown;
  /**
   * The send's identity for platform dedup fields (Feishu's uuid, Discord's nonce, QQ's msg_seq):
   * 64 lowercase hex characters, the same for every attempt of one logical send and for a client's
   * retry with its key. It is derived from the API key, the channel and the client's
   * Idempotency-Key/requestId, so two API keys using the same requestId never share one; random
   * for a send without a key.
   */
  idempotencyKey: string;
}

export interface NewsArticle {
  title: string;
  description?: string | undefined;
  url: string;
  picurl?: string | undefined;
}

export interface SendResult {
  platformMessageId: string | null;
}

/**
 * Takes events that did not come as the answer to a callback (a long connection, a pull) into this
 * channel's ingest path; resolves once they (and the cursor, if given) are durably stored.
 */
export interface EventSink {
  ingest(events: NormalizedEvent[], rawBody: Buffer, options?: IngestOptions): Promise<IngestOutcome[]>;
}

/** This channel's stored cursors (written through `EventSink.ingest`, with the events). */
export interface CursorReader {
  get(key: string): Promise<string | null>;
  /** The keys with a stored cursor. */
  keys(): Promise<string[]>;
}

export interface ChannelAdapter {
  handleCallback(req: InboundRequest): Promise<CallbackOutcome> | CallbackOutcome;
  send?(req: SendRequest): Promise<SendResult>;
  /** True when `send` takes `news` (link cards); other channels refuse them before any call. */
  sendsNews?: boolean;
  /**
   * True when the platform itself drops a repeat of this send made with the same `idempotencyKey`
   * (for at least the half minute the send service's retries may take): only then is a call whose
   * outcome is unknown (the request went out, the answer was lost) tried again. Asked once, before
   * the first call. Leave it out unless the platform's documentation promises it: a double message
   * is worse than a clear error.
   */
  dedupedByPlatform?(req: SendRequest): boolean;
  /**
   * Opens the platform's long connection and holds it until it drops (reject with the reason, or
   * resolve) or `session.signal` aborts (close, then resolve). The runtime calls it again after a
   * backoff whenever it returns, so one call is one connection; a client library that reconnects
   * by itself may instead hold on until the abort and report through `session`.
   */
  connect?(session: ConnectionSession): Promise<void>;
  /**
   * Work every node does for itself (learning the bot's own id), started once the gateway listens
   * and stopped by `signal` at shutdown; resolves once it has stopped.
   */
  runBackground?(signal: AbortSignal): Promise<void>;
  /**
   * Periodic pulls from the platform (a poll of its message API), run by one node of the cluster at a
   * time (the `poller:<channel>` lease) until `signal` aborts, when the lease is lost or the node
   * stops; resolves once it has stopped.
   */
  runPoller?(signal: AbortSignal): Promise<void>;
  /**
   * WeCom customer service: pull this account's messages now, as a `kf_msg_or_event` notice with this
   * Token would (the manager routes received the notice for the channel). Returns at once; the pull
   * runs in the background.
   */
  pullKfAccount?(openKfId: string, callbackToken: string | null): void;
  /**
   * For platforms whose account is bound by a person scanning a QR code (WeChat iLink):
   * `POST /v1/channels/:id/login` and `imgate login <channel>` go through it.
   */
  login?: ChannelLogin;
}

/** A channel's interactive login (`ChannelAdapter.login`). */
export interface ChannelLogin {
  /** Starts a login (a fresh QR code) unless one is under way on this node, and answers its state. */
  start(): Promise<LoginView>;
  /** The state of the latest login (of any node), or null when none was started. */
  view(): Promise<LoginView | null>;
  /** True while the channel cannot receive or send until someone logs in (never did, or the session ended). */
  needed(): Promise<boolean>;
}

export interface LoginView {
  /**
   * `wait`: scan the code; `scanned`: confirm on the phone; `confirmed`: logged in; `expired`: the
   * codes expired unscanned, start again; `failed`: see `message`.
   */
  status: 'wait' | 'scanned' | 'confirmed' | 'expired' | 'failed';
  /** What the QR code encodes (a URL to open in WeChat), while one is to be scanned. */
  qrcodeUrl: string | null;
  /** The same as a PNG `data:` URL, for a page to show. */
  qrImage: string | null;
  message: string | null;
  updatedAt: string;
}

/** What the runtime lends one long connection (`ChannelAdapter.connect`). */
export interface ConnectionSession {
  /** Aborted at shutdown: close the connection and return. */
  signal: AbortSignal;
  /**
   * The platform accepted the connection (handshake done, session ready): `/v1/channels` shows
   * `connected: true`; once it has stayed up `reconnect.maxDelayMs`, the next reconnect waits the
   * shortest delay again.
   */
  connected(): void;
  /** The connection is down but the adapter's client library is reconnecting by itself. */
  disconnected(error: unknown): void;
}

/** This channel's values in the store (the same table as its cursors: keep the keys apart). */
export interface ChannelValues {
  get(key: string): Promise<string | null>;
  put(key: string, value: string): Promise<void>;
}

/** This channel's counters in the store: numbers that go on across restarts and nodes. */
export interface ChannelCounters {
  /** Adds one to `key` (a new counter starts at 1) and answers the new value, atomically. */
  next(key: string): Promise<number>;
}

export interface AdapterDeps {
  logger: Logger;
  sink: EventSink;
  cursors: CursorReader;
  /** This channel's small values in the store, shared by the nodes (a login's sealed token). */
  values: ChannelValues;
  counters: ChannelCounters;
  tokens: TokenService;
  /** The store's send slots, for rate limits that hold for the whole cluster (`ClusterSendLimiter`). */
  sendSlots: SendSlots;
  /** Shows a failure of background work (a pull, a connection) as the channel's last error in `/v1/channels`. */
  reportError(error: unknown): void;
  /** Shows a pull that finished without error as the channel's `lastPullAt` in `/v1/channels` (what `imgate simulate` waits for). */
  reportPulled(): void;
  /**
   * True while the gateway hands this channel's account `key` to someone else instead of the adapter
   * (a WeCom customer-service account that a registered puppet owns): the adapter must not pull it.
   */
  handedOff(key: string): boolean;
  /**
   * The HTTP client for URLs a caller names (a send's `image.url`, through `imageBytes`): it connects
   * only to public addresses outside `delivery.denyNetworks`; `checkPublicImageUrl` checks with it a URL
   * that a server of the operator's will fetch.
   */
  downloads: GuardedAgent;
}

export interface PlatformDefinition<S extends z.ZodType = z.ZodType> {
  id: string;
  configSchema: S;
  create(config: z.infer<S>, deps: AdapterDeps): ChannelAdapter;
  /** Things an operator should hear about at start and from `imgate check` (weak auth and the like). */
  startupWarnings?(config: z.infer<S>): string[];
  /**
   * The stored payload as the API and `includeRaw` deliveries show it, where it holds a secret the
   * adapter itself needs later (a WeCom robot's WebhookUrl key): blanked there, kept in the store.
   */
  redactRaw?(raw: unknown): unknown;
  /** A correctly signed (and where the platform encrypts, encrypted) sample callback for `imgate simulate`. */
  simulate?(config: z.infer<S>, options: SimulateOptions): SimulatedCallback;
  /**
   * For platforms whose channels the WeChat webhook-configuration API (`/v1/webhook/*`) manages: the
   * key that authenticates a call about this channel (`?key=`), or null when it has none (then only
   * the admin token does).
   */
  webhookConfigKey?(config: z.infer<S>): string | null;
  /** WeCom platforms: the corp credential of the channel, which `/puppetWxkfManager/getToken` issues tokens for. */
  wecomCredential?(config: z.infer<S>): WecomCredential;
  /**
   * The WeCom customer-service manager contract (`/callback/:corpId`, `/puppetWxkfManager/*`) serves
   * this platform's channels: the keys that open their corp's callbacks.
   */
  kfManager?(config: z.infer<S>): { callbackKeys: WecomCallbackKeys };
  /**
   * Commands of the platform's own, run by an operator against one channel without a running
   * gateway: `imgate <platform id> <name> [--channel <id>] [--config <path>]` (CONTRIBUTING.md,
   * "Platform commands").
   */
  commands?: PlatformCommand<z.infer<S>>[];
}

/** One `imgate <platform id> <name>` command (`PlatformDefinition.commands`). */
export interface PlatformCommand<C> {
  name: string;
  description: string;
  /** Options besides `--channel` and `--config`, as commander flags (`--webhook-url <url>`, `--drop-pending-updates`). */
  options?: { flags: string; description: string }[];
  /**
   * Runs the command for the channel `config`, with the options by their camel-cased names
   * (`webhookUrl`); resolves with what to print as JSON. Errors are ImgateErrors with secrets blanked.
   */
  run(config: C, options: Record<string, unknown>): Promise<unknown>;
}
