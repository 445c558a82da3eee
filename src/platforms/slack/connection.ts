import WebSocket from 'ws';
import { ImgateError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { ConnectionSession, EventSink } from '../_kit/adapter.ts';
import { parseJsonBody } from '../_kit/json-body.ts';
import { jsonObject, scalarText, type Json } from '../_kit/payload-values.ts';
import { describeSocketEnd, holdSocket, wsMessageBytes } from '../_kit/websocket.ts';
import { callSlackApi } from './api.ts';
import { slackApiBase, type SlackChannelConfig } from './config.ts';
import { normalizeSlackEventCallback } from './normalize.ts';

/** A WebSocket ping this often; a connection that has not answered the previous one is dropped. */
const KEEPALIVE_MS = 30_000;
/** Event envelopes are a few KiB; a frame beyond this is not Slack's and closes the connection. */
const MAX_FRAME_BYTES = 4 * 1024 * 1024;

interface SocketModeDeps {
  sink: EventSink;
  logger: Logger;
}

/**
 * One Socket Mode connection (https://api.slack.com/apis/socket-mode), held until Slack closes it,
 * asks for a new one (`disconnect`) or `session.signal` aborts; the runtime reconnects, each time
 * with a fresh URL from `apps.connections.open`. The protocol is a few JSON frames, so it is spoken
 * here rather than through `@slack/socket-mode`, which reconnects on its own timer and leaves
 * acknowledging to its listeners: this way every `events_api` envelope is acknowledged
 * (`{"envelope_id"}`) only after its event is stored, and one left unacknowledged is sent again by Slack.
 */
export async function holdSlackSocket(config: SlackChannelConfig, deps: SocketModeDeps, session: ConnectionSession): Promise<void> {
  let url: string;
  try {
    url = await openConnectionUrl(config, session.signal);
  } catch (error) {
    if (session.signal.aborted) return;
    throw error;
  }
  const socket = new WebSocket(url, { handshakeTimeout: 10_000, maxPayload: MAX_FRAME_BYTES });
  const held = holdSocket(socket, session.signal, KEEPALIVE_MS);
  /** Set when Slack asked for a new connection: its close is expected, not a failure. */
  let refreshing = false;
  /** Set when Slack turned Socket Mode off for the app (`link_disabled`): a refusal. */
  let disabled = false;
  socket.on('message', (data, isBinary) => {
    if (isBinary || held.closing()) return;
    const frame = parseFrame(wsMessageBytes(data));
    if (frame === null) {
      deps.logger.warn('Slack Socket Mode sent a frame that is not a JSON object; ignored');
      return;
    }
    const type = scalarText(frame.type);
    if (type === 'hello') {
      // Slack's first frame: the connection is ready for events.
      session.connected();
      return;
    }
    if (type === 'disconnect') {
      const reason = scalarText(frame.reason) ?? '';
      deps.logger.info({ reason }, 'Slack Socket Mode asks to reconnect');
      if (reason === 'link_disabled') disabled = true;
      else refreshing = true;
      held.closeAfterStoring(`disconnect: ${reason}`);
      return;
    }
    void held.storing.track(handleEnvelope(frame, socket, deps));
  });

  const end = await held.ended;
  if (session.signal.aborted || refreshing) return;
  if (disabled) {
    throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', {
      message: "Slack disabled Socket Mode for the app (disconnect: link_disabled): turn Socket Mode on in the app's settings",
      details: { refused: true },
    });
  }
  throw new ImgateError('IMG_ERR_PLATFORM_UNREACHABLE', {
    message: describeSocketEnd('Slack Socket Mode', end),
  });
}

/**
 * `apps.connections.open` with the app-level token → a one-time WebSocket URL
 * (https://api.slack.com/methods/apps.connections.open). The URL is a credential of its own (its
 * ticket) and is never logged.
 */
async function openConnectionUrl(config: SlackChannelConfig, signal: AbortSignal): Promise<string> {
  const appToken = config.appToken;
  if (appToken === undefined) throw new ImgateError('IMG_ERR_INTERNAL', { message: 'socket mode without an appToken (the config refuses it)' });
  const answer = await callSlackApi({ apiBase: slackApiBase(config), method: 'apps.connections.open', token: appToken, body: {}, signal });
  const url = scalarText(answer.url);
  if (url === null || !/^wss?:\/\//.test(url)) {
    throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: 'Slack apps.connections.open answered without a WebSocket URL' });
  }
  return url;
}

/**
 * An envelope other than hello and disconnect. `events_api`: its `payload` (an `event_callback`,
 * as the Events API posts it) stored, then acknowledged. Anything else that has an envelope_id
 * (slash commands, interactivity, which imgate does not take) is acknowledged at once, so that
 * Slack does not send it again.
 */
async function handleEnvelope(frame: Json, socket: WebSocket, deps: SocketModeDeps): Promise<void> {
  const envelopeId = scalarText(frame.envelope_id);
  if (envelopeId === null) return;
  const payload = jsonObject(frame.payload);
  if (frame.type !== 'events_api' || payload === null || payload.type !== 'event_callback') {
    acknowledge(socket, envelopeId);
    return;
  }
  let event;
  try {
    event = normalizeSlackEventCallback(payload, new Date());
  } catch (error) {
    // An event that cannot be read now never will be: acknowledged, and logged for the operator.
    deps.logger.error({ err: error, envelopeId }, 'Slack Socket Mode event could not be read; acknowledged without an event');
    acknowledge(socket, envelopeId);
    return;
  }
  if (event !== null) {
    try {
      await deps.sink.ingest([event], Buffer.from(JSON.stringify(payload), 'utf8'));
    } catch (error) {
      deps.logger.error({ err: error, envelopeId }, 'Slack Socket Mode event not stored; left unacknowledged for Slack to send again');
      return;
    }
  }
  acknowledge(socket, envelopeId);
}

/** The answer that stops Slack from sending an envelope again. */
function acknowledge(socket: WebSocket, envelopeId: string): void {
  if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ envelope_id: envelopeId }));
}

function parseFrame(bytes: Buffer): Json | null {
  try {
    return jsonObject(parseJsonBody(bytes));
  } catch {
    return null;
  }
}
