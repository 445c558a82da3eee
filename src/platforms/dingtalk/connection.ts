import WebSocket from 'ws';
import { ImgateError } from '../../core/errors.ts';
import type { ConnectionSession, EventSink } from '../_kit/adapter.ts';
import { isJsonObject, scalarText } from '../_kit/payload-values.ts';
import { platformRequest } from '../_kit/platform-http.ts';
import { describeSocketEnd, holdSocket, wsMessageBytes } from '../_kit/websocket.ts';
import type { Logger } from '../../core/logger.ts';
import { gatewayBaseOf, type DingtalkChannelConfig } from './config.ts';
import { normalizeDingtalkMessage } from './normalize.ts';
import type { DingtalkCallbackBody } from './types.ts';

/** The topic robot messages come under (the `dingtalk-stream` SDK's TOPIC_ROBOT). */
export const ROBOT_TOPIC = '/v1.0/im/bot/messages/get';
/** A WebSocket ping this often; a connection that has not answered the previous one is dropped. */
const KEEPALIVE_MS = 30_000;
/** Robot messages are a few KiB; a frame beyond this is not DingTalk's and closes the connection. */
const MAX_FRAME_BYTES = 4 * 1024 * 1024;

/** A frame DingTalk pushes down the stream (open-dingtalk/dingtalk-stream-sdk-nodejs, `src/client.ts`). */
interface DownstreamFrame {
  type: string;
  headers: Record<string, unknown>;
  data: string;
}

interface StreamDeps {
  sink: EventSink;
  logger: Logger;
}

/**
 * One Stream-mode connection (DingTalk's long connection, for robots without a public URL), held
 * until DingTalk closes it or `session.signal` aborts; the runtime reconnects. The official
 * `dingtalk-stream` package hard-codes api.dingtalk.com and acks callbacks whenever its caller
 * chooses but swallows socket errors and reconnects on its own timer, so the protocol (a JSON
 * ticket request and JSON frames) is spoken here: this way every callback is acknowledged only
 * after its event is stored, and an unacknowledged one is pushed again by DingTalk (within ~60 s).
 */
export async function holdDingtalkStream(config: DingtalkChannelConfig, deps: StreamDeps, session: ConnectionSession): Promise<void> {
  let ticketed;
  try {
    ticketed = await openStreamTicket(config, session.signal);
  } catch (error) {
    if (session.signal.aborted) return;
    throw error;
  }
  const { endpoint, ticket } = ticketed;
  const url = new URL(endpoint);
  url.searchParams.set('ticket', ticket);
  const socket = new WebSocket(url, { handshakeTimeout: 10_000, maxPayload: MAX_FRAME_BYTES });
  const held = holdSocket(socket, session.signal, KEEPALIVE_MS);
  /** Set when DingTalk announced it is moving the connection: its close is expected, not a failure. */
  let moving = false;
  socket.on('open', () => {
    session.connected();
  });
  socket.on('message', (data, isBinary) => {
    if (isBinary || held.closing()) return;
    const frame = parseFrame(wsMessageBytes(data).toString('utf8'));
    if (frame === null) {
      deps.logger.warn('DingTalk stream sent a frame that is not JSON; ignored');
      return;
    }
    if (frame.type === 'SYSTEM' && scalarText(frame.headers.topic) === 'disconnect') {
      // DingTalk moves the connection (a server going away): the runtime opens a new one.
      deps.logger.info('DingTalk stream asks to reconnect');
      moving = true;
      held.closeAfterStoring('reconnecting on request');
      return;
    }
    void held.storing.track(handleFrame(frame, socket, deps));
  });

  const end = await held.ended;
  if (session.signal.aborted || moving) return;
  throw new ImgateError('IMG_ERR_PLATFORM_UNREACHABLE', {
    message: describeSocketEnd('DingTalk stream', end),
  });
}

/**
 * `POST {gatewayUrl}/v1.0/gateway/connections/open` with the app's credentials and the topics
 * wanted → the WebSocket endpoint and a one-time ticket.
 */
async function openStreamTicket(config: DingtalkChannelConfig, signal: AbortSignal): Promise<{ endpoint: string; ticket: string }> {
  const answer = await platformRequest({
    signal,
    url: `${gatewayBaseOf(config)}/v1.0/gateway/connections/open`,
    body: {
      clientId: config.appKey,
      clientSecret: config.appSecret,
      ua: 'imgate',
      subscriptions: [{ type: 'CALLBACK', topic: ROBOT_TOPIC }],
    },
    redact: [config.appSecret],
  });
  const endpoint = isJsonObject(answer) ? scalarText(answer.endpoint) : null;
  const ticket = isJsonObject(answer) ? scalarText(answer.ticket) : null;
  if (endpoint === null || ticket === null || !/^wss?:\/\//.test(endpoint)) {
    throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', {
      message: 'DingTalk gateway/connections/open answered without a WebSocket endpoint and ticket',
    });
  }
  return { endpoint, ticket };
}

async function handleFrame(frame: DownstreamFrame, socket: WebSocket, deps: StreamDeps): Promise<void> {
  const topic = scalarText(frame.headers.topic);
  if (frame.type === 'SYSTEM') {
    if (topic === 'ping') reply(socket, { code: 200, headers: frame.headers, message: 'OK', data: frame.data });
    return;
  }
  const messageId = scalarText(frame.headers.messageId);
  if (messageId === null) return;
  if (frame.type !== 'CALLBACK' || topic !== ROBOT_TOPIC) {
    // Nothing else is subscribed; acknowledged so that DingTalk does not push it again.
    acknowledge(socket, messageId);
    return;
  }
  let event;
  try {
    event = normalizeDingtalkMessage(parseCallbackBody(frame.data), new Date());
  } catch (error) {
    // A robot message that cannot be read now never will be: acknowledged, and logged for the operator.
    deps.logger.error({ err: error, messageId }, 'DingTalk stream callback could not be read; acknowledged without an event');
    acknowledge(socket, messageId);
    return;
  }
  try {
    await deps.sink.ingest([event], Buffer.from(frame.data, 'utf8'));
  } catch (error) {
    deps.logger.error({ err: error, messageId }, 'DingTalk stream callback not stored; left unacknowledged for DingTalk to push again');
    return;
  }
  acknowledge(socket, messageId);
}

function parseCallbackBody(data: string): DingtalkCallbackBody {
  let body: unknown;
  try {
    body = JSON.parse(data);
  } catch {
    throw new ImgateError('IMG_ERR_INBOUND_MALFORMED', { message: 'the DingTalk stream callback data is not JSON' });
  }
  if (!isJsonObject(body)) throw new ImgateError('IMG_ERR_INBOUND_MALFORMED', { message: 'the DingTalk stream callback data is not a JSON object' });
  return body as DingtalkCallbackBody;
}

/** The answer that stops DingTalk from pushing a callback again. */
function acknowledge(socket: WebSocket, messageId: string): void {
  reply(socket, { code: 200, headers: { contentType: 'application/json', messageId }, message: 'OK', data: JSON.stringify({ response: null }) });
}

function reply(socket: WebSocket, frame: Record<string, unknown>): void {
  if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
}

function parseFrame(text: string): DownstreamFrame | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isJsonObject(parsed) || typeof parsed.type !== 'string' || !isJsonObject(parsed.headers)) return null;
  return { type: parsed.type, headers: parsed.headers, data: typeof parsed.data === 'string' ? parsed.data : '' };
}
