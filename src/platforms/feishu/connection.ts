import type { NormalizedEvent } from '../../core/event.ts';
import { ImgateError } from '../../core/errors.ts';
import type { AdapterDeps, ConnectionSession } from '../_kit/adapter.ts';
import { InFlight } from '../_kit/in-flight.ts';
import { jsonObject } from '../_kit/payload-values.ts';
import { openFeishuPayload, type FeishuCallbackContext } from './callback.ts';
import { feishuGatewayBase } from './config.ts';
import { normalizeFeishuEvent } from './normalize.ts';
import { sdkLogger } from './sdk-logger.ts';
import { wsEndpointHttp } from './ws-endpoint.ts';

const HANDSHAKE_TIMEOUT_MS = 15_000;
/** Seconds after a ping within which Feishu must have sent something (its pong), or the connection is dropped. */
const PONG_TIMEOUT_SECONDS = 30;

type LongConnectionDeps = Pick<AdapterDeps, 'sink' | 'logger' | 'reportError'>;

/**
 * Holds a `websocket`-mode channel's long connection (长连接) until `session.signal` aborts, with
 * the official SDK's WSClient. The SDK was chosen over speaking the protocol (protobuf frames over
 * a WebSocket) because it can be pointed at any host (`domain`: our `gatewayUrl`, and the
 * WebSocket URL comes from the endpoint's answer) and because it answers an event only once its
 * EventDispatcher's `invoke` has resolved: ours resolves after the commit, so Feishu's ack means
 * "stored", and a failed store answers code 500, which Feishu pushes again.
 *
 * The SDK reconnects by itself, on Feishu's schedule: the endpoint's answer and every pong carry
 * `ReconnectInterval`, `ReconnectNonce` (a random wait before the first try, spreading clients
 * out) and `ReconnectCount`. Its drops and returns are told to `session`, so `/v1/channels` shows
 * them. The channel's `reconnect` delays apply only when the SDK gives up (credentials refused,
 * `ReconnectCount` tries spent): this function then rejects, and the runtime starts a new client
 * after its backoff.
 */
export async function holdFeishuLongConnection(ctx: FeishuCallbackContext, deps: LongConnectionDeps, session: ConnectionSession): Promise<void> {
  // Loaded on first use: the SDK is large, and gateways without a long connection never need it.
  const sdk = await import('@larksuiteoapi/node-sdk');
  if (session.signal.aborted) return;
  const { config } = ctx;
  const logger = sdkLogger(deps.logger, [config.appSecret]);
  const storing = new InFlight();

  class StoringDispatcher extends sdk.EventDispatcher {
    // The SDK's own dispatcher would reshape the event per handler; imgate wants it as Feishu sent it.
    override invoke(data: unknown): Promise<void> {
      return storing.track(ingestPushedEvent(ctx, deps, data));
    }
  }

  let endpointError: ImgateError | null = null;
  let gaveUp: (error: Error) => void = () => undefined;
  const givenUp = new Promise<Error>((resolve) => (gaveUp = resolve));
  const client = new sdk.WSClient({
    appId: config.appId,
    appSecret: config.appSecret,
    domain: feishuGatewayBase(config),
    logger,
    loggerLevel: sdk.LoggerLevel.trace,
    // Both off by default in the SDK: a stalled handshake would hang the client for ever, and a
    // half-open connection would look connected until the kernel gave up on it.
    handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
    wsConfig: { pingTimeout: PONG_TIMEOUT_SECONDS },
    httpInstance: wsEndpointHttp(config.appSecret, (error) => {
      endpointError = error;
      if (error !== null) session.disconnected(error);
    }),
    onReady: () => session.connected(),
    onReconnected: () => session.connected(),
    onReconnecting: () => {
      session.disconnected(new ImgateError('IMG_ERR_PLATFORM_UNREACHABLE', { message: 'the Feishu long connection dropped; the SDK connects again' }));
    },
    onError: (error) => gaveUp(error),
  });

  let stop: () => void = () => undefined;
  const aborted = new Promise<null>((resolve) => (stop = () => resolve(null)));
  session.signal.addEventListener('abort', stop, { once: true });
  await client.start({ eventDispatcher: new StoringDispatcher({ logger, loggerLevel: sdk.LoggerLevel.trace }) });
  const failure = await Promise.race([givenUp, aborted]);
  session.signal.removeEventListener('abort', stop);
  client.close();
  // Events still being stored: their answers can no longer go out, so Feishu pushes them again and
  // dedup keeps one. Waiting lets a shutdown finish them before the store closes.
  await storing.settled();
  if (failure === null || session.signal.aborted) return;
  throw endpointError ?? new ImgateError('IMG_ERR_PLATFORM_UNREACHABLE', { message: `the Feishu long connection gave up: ${failure.message}` });
}

/**
 * One event the long connection pushed (already merged from its parts and parsed by the SDK): the
 * same JSON a callback carries, unencrypted (decrypted here should an Encrypt Key be in use),
 * normalized as in webhook mode and deduplicated on `header.event_id`. No signature and no
 * verification token are checked: the connection itself was opened with the App Secret, and the
 * SDK does not check them either (`needCheck: false`).
 *
 * Resolves once stored; rejects when the store fails, so the SDK answers code 500. An event that
 * cannot be read resolves (is acknowledged), since pushing it again would not make it readable;
 * it is logged and shown as the channel's last error.
 */
export async function ingestPushedEvent(ctx: FeishuCallbackContext, deps: LongConnectionDeps, data: unknown): Promise<void> {
  let event: NormalizedEvent | null;
  try {
    event = eventOfPush(ctx, data);
  } catch (error) {
    deps.reportError(error);
    deps.logger.warn({ err: error }, 'an event from the Feishu long connection could not be read; acknowledged and dropped');
    return;
  }
  if (event !== null) await deps.sink.ingest([event], Buffer.from(JSON.stringify(data), 'utf8'));
}

function eventOfPush(ctx: FeishuCallbackContext, data: unknown): NormalizedEvent | null {
  const outer = jsonObject(data);
  if (outer === null) throw new ImgateError('IMG_ERR_INBOUND_MALFORMED', { message: 'the pushed event is not a JSON object' });
  const payload = openFeishuPayload(ctx.config, outer);
  // Schema 1.0 events and anything else without a 2.0 header are acknowledged, as in webhook mode.
  if (jsonObject(payload.header) === null) return null;
  return normalizeFeishuEvent(payload, { receivedAt: new Date(), botOpenId: ctx.bot.openId });
}
