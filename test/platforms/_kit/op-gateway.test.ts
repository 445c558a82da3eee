import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { freshGatewayState, holdOpGateway } from '../../../src/platforms/_kit/op-gateway.ts';
import { holdConnection } from '../../../src/runtime/long-connection.ts';
import type { ChannelStatus } from '../../../src/runtime/channels.ts';
import { capturingLogger } from '../../helpers/adapter-deps.ts';
import { FakeOpGateway } from '../../helpers/fake-op-gateway.ts';
import { waitFor } from '../../helpers/http.ts';

const IDENTIFY = { token: 'Bot test-token', intents: 513 };

/** A client of `gateway` held by the real lifecycle; `handled` lists dispatches in the order handled. */
function client(gateway: FakeOpGateway, handle: (type: string, data: any) => Promise<void> = async () => undefined) {
  const controller = new AbortController();
  const status: ChannelStatus = { connected: false, lastEventAt: null, lastPullAt: null, lastError: null };
  const state = freshGatewayState();
  const handled: string[] = [];
  const { logger } = capturingLogger();
  const held = holdConnection(
    {
      id: 'gw',
      status,
      reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
      adapter: {
        connect: (session) =>
          holdOpGateway({
            url: gateway.url,
            protocol: {
              name: 'the test gateway',
              identify: IDENTIFY,
              resume: (sessionId, seq) => ({ token: IDENTIFY.token, session_id: sessionId, seq }),
              fatalCloses: { 4004: 'the token was refused' },
              sessionEndingCloses: new Set([4007]),
            },
            state,
            session,
            dispatch: async (frame) => {
              await handle(frame.t, frame.d);
              if (frame.t === 'MESSAGE_CREATE') handled.push(String((frame.d as { id?: string }).id));
            },
            logger,
          }),
      },
    },
    controller.signal,
    logger,
  );
  const started = {
    status,
    state,
    handled,
    stop: async () => {
      controller.abort();
      await held;
    },
  };
  running.push(started);
  return started;
}

/** Clients still running; stopped after each test, also a failed one, so that the run can end. */
const running: { stop(): Promise<void> }[] = [];

describe('holdOpGateway', () => {
  // Long enough that a busy test machine does not miss an ACK by accident.
  const gateway = new FakeOpGateway(300, 'bot-user');
  before(() => gateway.start());
  afterEach(async () => {
    for (const c of running.splice(0)) await c.stop();
  });
  after(() => gateway.stop());

  it('identifies, shows the connection once READY, heartbeats with the last sequence, and resumes after a drop without losing a dispatch', async () => {
    const c = client(gateway);
    await waitFor(() => (c.status.connected ? true : undefined), 5000, 'READY');
    assert.deepEqual(gateway.sent(2).at(-1)?.d, IDENTIFY);
    const sessionId = gateway.sessionId;
    assert.equal(c.state.sessionId, sessionId);
    gateway.dispatch('MESSAGE_CREATE', { id: 'm1' });
    gateway.dispatch('MESSAGE_CREATE', { id: 'm2' });
    await waitFor(() => (c.handled.length === 2 ? true : undefined), 5000, 'two dispatches');
    const beats = await waitFor(() => {
      const sent = gateway.sent(1).filter((frame) => frame.d === 3);
      return sent.length > 0 ? sent : undefined;
    }, 5000, 'a heartbeat with sequence 3');
    assert.ok(beats.length > 0);

    gateway.drop();
    // Sent while the connection is down: only a RESUME's replay can deliver them.
    gateway.dispatch('MESSAGE_CREATE', { id: 'm3' });
    gateway.dispatch('MESSAGE_CREATE', { id: 'm4' });
    await waitFor(() => (c.handled.length === 4 ? true : undefined), 5000, 'the replay');
    assert.deepEqual(gateway.sent(6).at(-1)?.d, { token: IDENTIFY.token, session_id: sessionId, seq: 3 });
    assert.deepEqual(c.handled, ['m1', 'm2', 'm3', 'm4']);
    assert.equal(gateway.sent(2).length, 1, 'no second IDENTIFY');
  });

  it('identifies afresh when the session is invalid', async () => {
    const c = client(gateway);
    await waitFor(() => (c.status.connected ? true : undefined), 5000, 'READY');
    const identifies = gateway.sent(2).length;
    const before = gateway.sessionId;
    gateway.invalidateSession();
    await waitFor(() => (gateway.sent(2).length > identifies && c.state.sessionId === gateway.sessionId ? true : undefined), 5000, 'a new IDENTIFY');
    assert.notEqual(c.state.sessionId, before);
  });

  it('takes a missed heartbeat ACK as a dead connection and resumes', async () => {
    const c = client(gateway);
    await waitFor(() => (c.status.connected ? true : undefined), 5000, 'READY');
    const connections = gateway.connections.length;
    const resumes = gateway.sent(6).length;
    gateway.ackHeartbeats = false;
    try {
      await waitFor(() => (gateway.connections.length > connections ? true : undefined), 5000, 'a new connection');
    } finally {
      gateway.ackHeartbeats = true;
    }
    await waitFor(() => (gateway.sent(6).length > resumes && c.status.connected ? true : undefined), 5000, 'a RESUME');
    assert.match(c.status.lastError?.message ?? '', /did not acknowledge a heartbeat/);
  });

  it('reconnects when a dispatch cannot be stored, and gets it again with what followed', async () => {
    let failOnce = true;
    const c = client(gateway, async (_type, data) => {
      if (data.id === 'flaky' && failOnce) {
        failOnce = false;
        throw new Error('store unavailable');
      }
    });
    await waitFor(() => (c.status.connected ? true : undefined), 5000, 'READY');
    gateway.dispatch('MESSAGE_CREATE', { id: 'flaky' });
    gateway.dispatch('MESSAGE_CREATE', { id: 'after-flaky' });
    await waitFor(() => (c.handled.includes('flaky') ? true : undefined), 5000, 'the replay');
    // Dispatches are stored concurrently: the one after may have been stored before the failure and
    // comes again with the replay (the store's dedup keeps one). Nothing is lost.
    assert.deepEqual(new Set(c.handled), new Set(['flaky', 'after-flaky']));
    assert.equal(c.handled.filter((id) => id === 'flaky').length, 1);
  });

  it('explains a fatal close code, ends the session and identifies afresh next time', async () => {
    const c = client(gateway);
    await waitFor(() => (c.status.connected ? true : undefined), 5000, 'READY');
    const identifies = gateway.sent(2).length;
    gateway.closeWith(4004);
    await waitFor(() => (c.status.lastError?.code === 'IMG_ERR_PLATFORM_REJECTED' ? true : undefined), 5000, 'the explanation');
    assert.equal(c.status.lastError?.message, 'the token was refused');
    // A refusal waits the longest reconnect delay (100 ms here), then starts a new session.
    await waitFor(() => (gateway.sent(2).length > identifies && c.status.connected ? true : undefined), 5000, 'a new IDENTIFY');
  });

  it('obeys RECONNECT', async () => {
    const c = client(gateway);
    await waitFor(() => (c.status.connected ? true : undefined), 5000, 'READY');
    const connections = gateway.connections.length;
    const resumes = gateway.sent(6).length;
    gateway.push({ op: 7, d: null });
    await waitFor(() => (gateway.connections.length > connections && gateway.sent(6).length > resumes && c.status.connected ? true : undefined), 5000, 'a RESUME on a new connection');
  });
});
