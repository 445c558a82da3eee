import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { ImgateError } from '../../../src/core/errors.ts';
import type { ConnectionSession } from '../../../src/platforms/_kit/adapter.ts';
import { holdFeishuLongConnection } from '../../../src/platforms/feishu/connection.ts';
import { capturingLogger, testAdapterDeps, type TestAdapterDeps } from '../../helpers/adapter-deps.ts';
import { FakeFeishuLongConnection, WS_ENDPOINT_PATH, WS_SERVICE_ID } from '../../helpers/fake-feishu-ws.ts';
import { waitFor } from '../../helpers/http.ts';
import { FEISHU_KEYS, FakeFeishuApi, WS_APP_ID as APP_ID, envelope, feishuChannel, messageEvent } from './helpers.ts';

interface SessionLog {
  session: ConnectionSession;
  controller: AbortController;
  /** `connected` and `disconnected:<code>` in the order the connection reported them. */
  seen: string[];
}

function recordingSession(): SessionLog {
  const controller = new AbortController();
  const seen: string[] = [];
  return {
    controller,
    seen,
    session: {
      signal: controller.signal,
      connected: () => void seen.push('connected'),
      disconnected: (error) => void seen.push(`disconnected:${error instanceof ImgateError ? error.code : 'other'}`),
    },
  };
}

describe('the Feishu long connection (the SDK against a fake Feishu)', () => {
  const api = new FakeFeishuApi();
  const feishu = new FakeFeishuLongConnection({ appId: APP_ID, appSecret: FEISHU_KEYS.appSecret });
  let running: { log: SessionLog; held: Promise<void>; deps: TestAdapterDeps; lines: string[] } | null = null;

  before(async () => {
    await Promise.all([api.start(), feishu.start()]);
    api.route(WS_ENDPOINT_PATH, feishu.endpoint);
  });

  after(async () => {
    await Promise.all([api.stop(), feishu.stop()]);
  });

  afterEach(async () => {
    running?.log.controller.abort();
    await running?.held;
    running = null;
    feishu.refusal = null;
  });

  async function connect(ingest?: TestAdapterDeps['sink']['ingest'], overrides: Record<string, unknown> = {}) {
    const { logger, lines } = capturingLogger();
    const deps = testAdapterDeps(logger);
    if (ingest) deps.sink.ingest = ingest;
    const log = recordingSession();
    const config = feishuChannel({ mode: 'websocket', appId: APP_ID, apiBase: api.url, botOpenId: 'ou_bot', ...overrides });
    const connections = feishu.sockets.length;
    const held = holdFeishuLongConnection({ config, bot: { openId: 'ou_bot' } }, deps, log.session);
    running = { log, held, deps, lines };
    await waitFor(() => (log.seen.includes('connected') && feishu.sockets.length > connections ? true : undefined), 10_000, 'the connection');
    return running;
  }

  it('asks the endpoint with the App ID and Secret, connects, and pings with the service id of the URL', async () => {
    const { log } = await connect();
    const asked = JSON.parse(api.requestsTo(WS_ENDPOINT_PATH).at(-1)!.body.toString('utf8'));
    assert.deepEqual(asked, { AppID: APP_ID, AppSecret: FEISHU_KEYS.appSecret });
    assert.deepEqual(log.seen, ['connected']);
    const ping = await waitFor(() => feishu.pings.at(-1), 5000, 'a ping');
    assert.equal(ping.service, WS_SERVICE_ID);
  });

  it('answers an event with code 200 only once the sink has stored it', async () => {
    let stored = false;
    const storedAtAck: boolean[] = [];
    feishu.onAck = () => void storedAtAck.push(stored);
    const { deps } = await connect(async (events) => {
      await new Promise((resolve) => setImmediate(resolve));
      stored = true;
      return events.map((event) => ({ status: 'stored', eventId: event.dedupKey, deliveryIds: [] }));
    });
    try {
      const payload = messageEvent({ messageId: 'om_unit_ack', content: { text: 'hi over ws' } });
      const pushed = feishu.push(payload);
      const ack = await waitFor(() => feishu.acksOf(pushed)[0], 5000, 'the answer');
      assert.equal(ack.code, 200);
      assert.deepEqual(storedAtAck, [true], 'the answer came after the sink resolved');
      assert.equal(deps.sinkCalls.length, 0, 'the overriding sink took it');
    } finally {
      feishu.onAck = null;
    }
  });

  it('hands the sink the normalized event and the event JSON, also when pushed in parts', async () => {
    const { deps } = await connect();
    const payload = messageEvent({ messageId: 'om_unit_parts', content: { text: 'a longer message, split over three frames' } });
    const pushed = feishu.push(payload, 3);
    await waitFor(() => feishu.acksOf(pushed)[0], 5000, 'the answer');
    const [call] = deps.sinkCalls;
    assert.equal(call!.events[0]!.dedupKey, payload.header.event_id);
    assert.equal(call!.events[0]!.message.text, 'a longer message, split over three frames');
    assert.deepEqual(JSON.parse(call!.rawBody.toString('utf8')), payload);
  });

  it('answers code 500 when the store fails, so that Feishu pushes the event again', async () => {
    let failures = 1;
    const { deps } = await connect(async (events, rawBody, options) => {
      if (failures-- > 0) throw new ImgateError('IMG_ERR_OVERLOADED');
      deps.sinkCalls.push({ events, rawBody, options });
      return events.map((event) => ({ status: 'stored', eventId: event.dedupKey, deliveryIds: [] }));
    });
    const first = feishu.push(messageEvent({ messageId: 'om_unit_retry' }));
    assert.equal((await waitFor(() => feishu.acksOf(first)[0], 5000, 'the first answer')).code, 500);
    assert.equal(deps.sinkCalls.length, 0);
    const [again] = feishu.repushUnacked();
    assert.equal((await waitFor(() => feishu.acksOf(again!)[0], 5000, 'the second answer')).code, 200);
    assert.equal(deps.sinkCalls.length, 1);
  });

  it('acknowledges events it does not store: other event types, schema 1.0, and unreadable ones (shown as the last error)', async () => {
    const { deps } = await connect();
    const pushed = [
      feishu.push(envelope('im.message.reaction.created_v1', { message_id: 'om_x' })),
      feishu.push({ uuid: 'u-1', token: FEISHU_KEYS.verificationToken, type: 'event_callback', event: { type: 'message' } }),
      feishu.push(envelope('im.message.receive_v1', { message: { message_id: 'om_no_chat' } })),
    ];
    for (const id of pushed) assert.equal((await waitFor(() => feishu.acksOf(id)[0], 5000, 'an answer')).code, 200);
    assert.equal(deps.sinkCalls.length, 0);
    assert.equal(deps.reportedErrors.length, 1);
    assert.match((deps.reportedErrors[0] as Error).message, /chat_id/);
  });

  it('reconnects by itself after a drop, telling the session, and takes events on the new connection', async () => {
    const { log, deps } = await connect();
    const connections = feishu.sockets.length;
    feishu.drop();
    await waitFor(() => (log.seen.filter((entry) => entry === 'connected').length === 2 && feishu.sockets.length > connections ? true : undefined), 10_000, 'the reconnect');
    assert.deepEqual(log.seen, ['connected', 'disconnected:IMG_ERR_PLATFORM_UNREACHABLE', 'connected']);
    const pushed = feishu.push(messageEvent({ messageId: 'om_unit_after_drop' }));
    assert.equal((await waitFor(() => feishu.acksOf(pushed)[0], 5000, 'the answer')).connection, connections);
    assert.equal(deps.sinkCalls.length, 1);
  });

  it('rejects with the reason when Feishu refuses the app, so the runtime backs off and tries again', async () => {
    const { seen, controller, session } = recordingSession();
    const config = feishuChannel({ mode: 'websocket', appId: APP_ID, appSecret: 'not-the-secret', apiBase: api.url });
    const held = holdFeishuLongConnection({ config, bot: { openId: null } }, testAdapterDeps(), session);
    await assert.rejects(held, (error: unknown) => {
      assert.ok(error instanceof ImgateError);
      assert.equal(error.code, 'IMG_ERR_PLATFORM_REJECTED');
      assert.match(error.message, /code 514: auth failed \(the App ID or App Secret is wrong\)/);
      return true;
    });
    assert.deepEqual(seen, ['disconnected:IMG_ERR_PLATFORM_REJECTED']);
    controller.abort();
  });

  it('asks gatewayUrl for the connection when it is set', async () => {
    const gateway = new FakeFeishuApi();
    await gateway.start();
    try {
      gateway.route(WS_ENDPOINT_PATH, feishu.endpoint);
      await connect(undefined, { apiBase: 'http://127.0.0.1:9', gatewayUrl: `${gateway.url}/` });
      assert.equal(gateway.requestsTo(WS_ENDPOINT_PATH).length, 1);
    } finally {
      running?.log.controller.abort();
      await running?.held;
      await gateway.stop();
    }
  });

  it('closes the connection and returns when the session is aborted, and never logs a secret or the URL', async () => {
    const { log, held, lines } = await connect();
    const closes = feishu.closeCodes.length;
    log.controller.abort();
    await held;
    await waitFor(() => (feishu.closeCodes.length > closes ? true : undefined), 5000, 'the close');
    const text = lines.join('');
    assert.ok(text.includes('@larksuiteoapi/node-sdk'), 'the SDK logs through the channel logger');
    for (const secret of [FEISHU_KEYS.appSecret, ...feishu.credentialsIssued]) assert.ok(!text.includes(secret), 'a secret reached the log');
    assert.doesNotMatch(text, /ws:\/\/127\.0\.0\.1/);
  });
});
