import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { NormalizedEvent, UnifiedEvent } from '../../core/event.ts';

/** A platform callback as it reached `/hooks/:channelId`, body untouched. */
export interface InboundRequest {
  method: string;
  headers: IncomingHttpHeaders;
  query: Record<string, string | undefined>;
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
  mentions: string[];
  /** The stored event being replied to, when `replyTo` named one. */
  replyTo: UnifiedEvent | null;
  /** Stable across retries of one logical send; platforms with their own dedup field get it. */
  idempotencyKey: string;
}

export interface SendResult {
  platformMessageId: string | null;
}

/** Receives what a long connection produced; resolves once the events are durably stored. */
export interface EventSink {
  ingest(events: NormalizedEvent[], rawBody: Buffer): Promise<void>;
}

export interface ChannelAdapter {
  handleCallback(req: InboundRequest): Promise<CallbackOutcome> | CallbackOutcome;
  send?(req: SendRequest): Promise<SendResult>;
  /** Holds the platform's long connection until `signal` aborts. */
  connect?(sink: EventSink, signal: AbortSignal): Promise<void>;
  /** Things an operator should hear about at start (weak auth and the like). */
  startupWarnings?(): string[];
}

export interface AdapterDeps {
  logger: Logger;
}

export interface PlatformDefinition<S extends z.ZodType = z.ZodType> {
  id: string;
  configSchema: S;
  create(config: z.infer<S>, deps: AdapterDeps): ChannelAdapter;
}
