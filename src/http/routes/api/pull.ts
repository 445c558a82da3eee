import { setMaxListeners, type EventEmitter } from 'node:events';
import fastifyWebsocket from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { ImgateError } from '../../../core/errors.ts';
import type { UnifiedEvent } from '../../../core/event.ts';
import { unifiedEventJson } from '../../../delivery/render.ts';
import { TEST_CHANNEL } from '../../../delivery/test-delivery.ts';
import { shownRaw } from '../../../platforms/shown-raw.ts';
import { followPull, PULL_RECHECK_MS, type PullSink } from '../../../pull/follow.ts';
import type { PulledEvent, SubscriptionRecord } from '../../../store/store.ts';
import type { AppContext } from '../../context.ts';
import { ADMIN_TOKEN_OR_API_KEY } from '../../openapi/document.ts';
import { errorResponses, idParams } from '../../openapi/responses.ts';
import { authenticateStreamReader, requireSubscriptionScope, type StreamReader } from '../../plugins/auth.ts';
import { validate } from '../../validate.ts';

/** How soon an EventSource reconnects after the connection dropped (the SSE `retry` field). */
const SSE_RETRY_MS = 1000;
/** WebSocket frames sent but not yet taken by the socket, at most, before the follower waits. */
const WS_MAX_UNSENT = 64;
/** After the gateway asked a stream to end, how long the client has to let it close before the connection is cut. */
const CLOSE_GRACE_MS = 1000;

/** Cursors are the entries' numbers; `0` is the stream's beginning. */
const cursor = z.string().regex(/^(0|[1-9][0-9]{0,14})$/, 'a cursor this stream gave out (or 0, its beginning)');

const streamQuery = z.strictObject({ after: cursor.optional() });
const pollQuery = z.strictObject({
  after: cursor.optional(),
  wait: z.coerce.number().min(0).max(60).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const ackFrame = z.strictObject({ ack: cursor });

interface OpenedStream {
  subscription: SubscriptionRecord;
  /** Where this reader starts (everything up to it is acknowledged). */
  after: string;
  /**
   * Events of the channels the reader may see (an API key's), and test events; the subscription
   * may have matched others before its channels were narrowed.
   */
  visible: (event: UnifiedEvent) => boolean;
}

/**
 * Pull subscriptions (docs/pull.md): `GET /v1/subscriptions/:id/stream` as Server-Sent Events or a
 * WebSocket, and `GET /v1/subscriptions/:id/events` for long polling. Readers present the admin token
 * or an API key whose channels cover the subscription's.
 */
export async function pullRoutes(scope: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  // Acknowledgements are the only frames a client sends: small.
  await app.register(fastifyWebsocket, { options: { maxPayload: 4096 } });
  const { store, pullWakeups: wakeups } = ctx;
  // A comment line (SSE) or a ping (WebSocket) at least this often, so that proxies keep the connection open.
  const heartbeatMs = ctx.config.server.streamHeartbeatMs;
  // Every open stream and long poll ends when the gateway stops, before the server waits for its connections.
  const stopping = new AbortController();
  // Every open stream listens for it.
  setMaxListeners(0, stopping.signal);
  app.addHook('preClose', (done) => {
    stopping.abort();
    done();
  });

  // The token first, before the request is validated: without one, nobody learns which subscriptions exist.
  const readers = new WeakMap<FastifyRequest, StreamReader>();
  app.addHook('preValidation', async (request) => {
    readers.set(request, await authenticateStreamReader(request, { store, adminToken: ctx.config.admin.token }));
  });

  /** The subscription, checked to be a pull one the caller may read, and the cursor to start after. */
  async function open(request: FastifyRequest, id: string, after: string | undefined): Promise<OpenedStream> {
    const reader = readers.get(request) as StreamReader;
    const subscription = await store.getSubscription(id);
    if (!subscription) throw new ImgateError('IMG_ERR_NOT_FOUND', { message: `no subscription "${id}"` });
    requireSubscriptionScope(reader, subscription);
    const allowed = reader.channels;
    const visible = allowed === null ? () => true : (event: UnifiedEvent) => event.channel === TEST_CHANNEL || allowed.includes(event.channel);
    if (!subscription.pull) {
      throw new ImgateError('IMG_ERR_VALIDATION', { message: `subscription "${subscription.id}" delivers webhooks; only a pull subscription can be read` });
    }
    const state = await store.pullState(subscription.id);
    if (after === undefined) return { subscription, after: state.acked ?? '0', visible };
    const head = state.head ?? '0';
    if (Number(after) > Number(head)) {
      throw new ImgateError('IMG_ERR_VALIDATION', { message: `cursor ${after} is past the newest event of this stream (${head})` });
    }
    // A reader that resumes after a cursor has everything up to it.
    if (after !== '0') await store.ackPull(subscription.id, after);
    return { subscription, after, visible };
  }

  /** Aborts when `connection` closes (the client went away, or its answer is sent) or the gateway stops. */
  function lifetime(connection: EventEmitter, onEnd: () => void): AbortSignal {
    const controller = new AbortController();
    const end = () => {
      connection.off('close', end);
      stopping.signal.removeEventListener('abort', end);
      controller.abort();
      onEnd();
    };
    connection.once('close', end);
    stopping.signal.addEventListener('abort', end, { once: true });
    return controller.signal;
  }

  const opened = new WeakMap<FastifyRequest, OpenedStream>();

  const readErrors = errorResponses('IMG_ERR_AUTH_MISSING', 'IMG_ERR_AUTH_INVALID', 'IMG_ERR_AUTH_SCOPE', 'IMG_ERR_VALIDATION', 'IMG_ERR_NOT_FOUND');
  app.route({
    method: 'GET',
    url: '/v1/subscriptions/:id/stream',
    schema: {
      security: ADMIN_TOKEN_OR_API_KEY,
      tags: ['pull'],
      summary: "A pull subscription's events as Server-Sent Events, or over a WebSocket (docs/pull.md)",
      params: idParams,
      querystring: streamQuery,
      response: {
        200: { description: 'One `imgate.event` per event, `id:` its cursor.', content: { 'text/event-stream': { schema: z.string() } } },
        ...readErrors,
      },
    },
    // A HEAD would run the handler, and a cursor in it would count as an acknowledgement.
    exposeHeadRoute: false,
    // Before the WebSocket upgrade, so that a refused reader gets an HTTP answer with its reason.
    preHandler: async (request) => {
      const lastEventId = request.headers['last-event-id'];
      const after = typeof lastEventId === 'string' ? validate(cursor, lastEventId) : request.query.after;
      opened.set(request, await open(request, request.params.id, after));
    },
    handler: async (request, reply) => {
      const stream = opened.get(request) as OpenedStream;
      request.logFields.subscription = stream.subscription.id;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        // Asks nginx not to buffer the stream.
        'x-accel-buffering': 'no',
      });
      res.write(`retry: ${SSE_RETRY_MS}\n\n`);
      // A client that stopped reading never lets an ended response finish: it is cut after a grace.
      const signal = lifetime(res, () => {
        res.end();
        setTimeout(() => res.destroy(), CLOSE_GRACE_MS).unref();
      });
      // Nothing is written once the response ended (a write after the end would be an error).
      const send = (text: string) => res.writableEnded || res.write(text);
      const sink: PullSink = {
        // JSON.stringify escapes every line break, so the event is one `data:` line.
        write: (at, eventJson) => send(`id: ${at}\nevent: imgate.event\ndata: ${eventJson}\n\n`),
        drained: () => firstOf(res, ['drain', 'close']),
        heartbeat: { everyMs: heartbeatMs, send: () => send(': keep-alive\n\n') },
      };
      await follow(request, stream, sink, signal);
      res.end();
    },
    wsHandler: (socket: WebSocket, request) => {
      const stream = opened.get(request) as OpenedStream;
      const signal = lifetime(socket, () => {
        socket.close(1001, 'the gateway is stopping');
        setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
      });
      let unsent = 0;
      let roomWaiter: (() => void) | undefined;
      const sink: PullSink = {
        write: (at, eventJson) => {
          unsent += 1;
          socket.send(`{"cursor":"${at}","event":${eventJson}}`, () => {
            unsent -= 1;
            if (unsent < WS_MAX_UNSENT / 2) roomWaiter?.();
          });
          return unsent < WS_MAX_UNSENT;
        },
        drained: () =>
          new Promise((resolve) => {
            const done = () => {
              socket.off('close', done);
              roomWaiter = undefined;
              resolve();
            };
            roomWaiter = done;
            socket.on('close', done);
          }),
      };
      // A ping every heartbeat, busy or idle; a client that has not answered one by the next is gone.
      let alive = true;
      socket.on('pong', () => (alive = true));
      const pings = setInterval(() => {
        if (!alive) {
          socket.terminate();
          return;
        }
        alive = false;
        socket.ping();
      }, heartbeatMs);
      socket.on('close', () => clearInterval(pings));
      socket.on('message', (data, isBinary) => {
        const frame = isBinary ? undefined : parseJson(data.toString());
        const parsed = ackFrame.safeParse(frame);
        if (!parsed.success) {
          socket.close(1008, 'expected {"ack": "<cursor>"}');
          return;
        }
        store.ackPull(stream.subscription.id, parsed.data.ack).catch((error: unknown) => {
          ctx.logger.error({ err: error, subscription: stream.subscription.id }, 'could not store a pull acknowledgement');
        });
      });
      void follow(request, stream, sink, signal).then((failed) => {
        if (failed) socket.close(1011, 'the stream failed; reconnect to resume');
      });
    },
  });

  /**
   * Streams until the signal; answers true when a failure (of the store) ended it instead, after
   * which the connection is closed and the client reconnects and resumes.
   */
  async function follow(request: FastifyRequest, stream: OpenedStream, sink: PullSink, signal: AbortSignal): Promise<boolean> {
    try {
      const { subscription, after, visible } = stream;
      await followPull({ streams: store, wakeups, subscription, after, sink, showRaw: shownRaw, visible, signal });
      return false;
    } catch (error) {
      ctx.logger.error({ err: error, subscription: stream.subscription.id, route: request.routeOptions.url }, 'a pull stream failed');
      return true;
    }
  }

  const pollSchema = {
    security: ADMIN_TOKEN_OR_API_KEY,
    tags: ['pull'],
    summary: "A pull subscription's events by long polling (docs/pull.md)",
    params: idParams,
    querystring: pollQuery,
    response: {
      200: z.object({ data: z.array(z.object({ cursor: z.string(), event: z.record(z.string(), z.unknown()) })), next: z.string() }),
      ...readErrors,
    },
  };
  app.get('/v1/subscriptions/:id/events', { exposeHeadRoute: false, schema: pollSchema }, async (request, reply) => {
    const query = request.query;
    const { subscription, after, visible } = await open(request, request.params.id, query.after);
    request.logFields.subscription = subscription.id;
    const deadline = Date.now() + query.wait * 1000;
    const signal = lifetime(reply.raw, () => undefined);
    let page: PulledEvent[];
    for (;;) {
      const version = wakeups.version(subscription.id);
      page = await store.readPull(subscription.id, after, query.limit);
      if (page.length > 0 || signal.aborted || Date.now() >= deadline) break;
      await wakeups.wait(subscription.id, version, Math.min(PULL_RECHECK_MS, deadline - Date.now()), signal);
    }
    const next = page.at(-1)?.cursor ?? after;
    // The events are stored as JSON already: written out as they are, not parsed and serialized again.
    const data = page
      .filter((entry) => visible(entry.stored.event))
      .map((entry) => `{"cursor":"${entry.cursor}","event":${unifiedEventJson(subscription, entry.stored, shownRaw)}}`)
      .join(',');
    // A JSON string is sent as it is (fastify serializes only what is not a string): the cast is for the type of the 200 schema.
    return reply.type('application/json; charset=utf-8').send(`{"data":[${data}],"next":"${next}"}` as never);
  });
}

/** Resolves on the first of these events, leaving no listener behind (a slow reader waits many times). */
function firstOf(emitter: EventEmitter, events: string[]): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      for (const event of events) emitter.off(event, done);
      resolve();
    };
    for (const event of events) emitter.on(event, done);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
