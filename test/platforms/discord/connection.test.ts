import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ImgateError } from '../../../src/core/errors.ts';
import type { ConnectionSession } from '../../../src/platforms/_kit/adapter.ts';
import { createDiscordAdapter } from '../../../src/platforms/discord/index.ts';
import { capturingLogger, testAdapterDeps, type TestAdapterDeps } from '../../helpers/adapter-deps.ts';
import { failsWith } from '../../helpers/errors.ts';
import { API, BOT_TOKEN, BOT_USER_ID, FakeDiscordApi, messageData } from '../../helpers/fake-discord.ts';
import { FakeOpGateway } from '../../helpers/fake-op-gateway.ts';
import { channel } from './helpers.ts';

/** What the runtime lends `connect`, recording what the adapter tells it. */
function session(): ConnectionSession & { controller: AbortController; connectedCalls: number } {
  const controller = new AbortController();
  const lent = {
    controller,
    connectedCalls: 0,
    signal: controller.signal,
    connected: () => void (lent.connectedCalls += 1),
    disconnected: () => assert.fail('a connection of its own never reports through disconnected'),
  };
  return lent;
}

/** The message ids the sink was handed, in order. */
function ingestedIds(deps: TestAdapterDeps): string[] {
  return deps.sinkCalls.flatMap((call) => call.events.map((event) => event.message.platformId));
}

describe('discord gateway connection', () => {
  const gateway = new FakeOpGateway(100, BOT_USER_ID);
  const api = new FakeDiscordApi();
  const config = (overrides: Record<string, unknown> = {}) => channel({ apiBase: `${api.url}/api`, ...overrides });

  before(async () => {
    await gateway.start();
    await api.start();
    api.gatewayUrl = gateway.url;
  });
  after(async () => {
    await gateway.stop();
    await api.stop();
  });

  it('connects to a configured gatewayUrl without asking GET /gateway/bot, and closes with 1000 at shutdown', async () => {
    const adapter = createDiscordAdapter(config({ gatewayUrl: gateway.url, intents: 513 }), testAdapterDeps());
    const lent = session();
    const held = adapter.connect!(lent);
    const start = gateway.connections.length;
    const identify = await gateway.waitForFrame(start + 1, 2);
    assert.equal(identify.d.intents, 513);
    assert.equal(identify.d.token, BOT_TOKEN);
    await gateway.waitFor(() => lent.connectedCalls === 1, 'READY reported as connected');
    lent.controller.abort();
    await held;
    await gateway.waitFor(() => gateway.connections[start]!.closeCode !== null, 'the close');
    assert.equal(gateway.connections[start]!.closeCode, 1000);
    assert.equal(api.requestsTo(`${API}/gateway/bot`).length, 0);
  });

  it('resumes before a dispatch it could not store, so that Discord sends it again', async () => {
    const deps = testAdapterDeps();
    const ingest = deps.sink.ingest;
    let failures = 0;
    deps.sink.ingest = async (events, rawBody, options) => {
      if (events[0]?.message.text === 'second' && failures === 0) {
        failures += 1;
        throw new ImgateError('IMG_ERR_OVERLOADED');
      }
      return ingest(events, rawBody, options);
    };
    const adapter = createDiscordAdapter(config(), deps);
    const first = session();
    const held = adapter.connect!(first);
    await gateway.waitFor(() => first.connectedCalls === 1, 'READY');
    const start = gateway.connections.length;
    const firstSeq = gateway.dispatch('MESSAGE_CREATE', messageData({ id: '2001', content: 'first' }));
    await gateway.waitFor(() => ingestedIds(deps).includes('2001'), 'the first message stored');
    gateway.dispatch('MESSAGE_CREATE', messageData({ id: '2002', content: 'second' }));
    gateway.dispatch('MESSAGE_CREATE', messageData({ id: '2003', content: 'third' }));
    await assert.rejects(held, failsWith('IMG_ERR_OVERLOADED'));
    assert.equal(gateway.connections[start - 1]!.closeCode, 4999, 'closed so that the session can be resumed');

    const second = session();
    const resumed = adapter.connect!(second);
    const resume = await gateway.waitForFrame(start + 1, 6);
    assert.equal(resume.d.seq, firstSeq, 'resumed from the last dispatch stored, not the last received');
    await gateway.waitFor(() => ingestedIds(deps).filter((id) => id === '2002').length === 1 && ingestedIds(deps).includes('2003'), 'the replay stored');
    second.controller.abort();
    await resumed;
  });

  it('passes over a dispatch it cannot read and moves on, the next RESUME past it', async () => {
    const { logger, lines } = capturingLogger();
    const deps = testAdapterDeps(logger);
    const adapter = createDiscordAdapter(config(), deps);
    const first = session();
    const held = adapter.connect!(first);
    await gateway.waitFor(() => first.connectedCalls === 1, 'READY');
    gateway.dispatch('MESSAGE_CREATE', { channel_id: '1', content: 'no id' });
    const goodSeq = gateway.dispatch('MESSAGE_CREATE', messageData({ id: '2101', content: 'fine' }));
    await gateway.waitFor(() => ingestedIds(deps).includes('2101'), 'the readable message stored');
    assert.ok(lines.some((line) => line.includes('passed over a Discord dispatch')));
    const start = gateway.connections.length;
    gateway.drop();
    await assert.rejects(held, failsWith('IMG_ERR_PLATFORM_UNREACHABLE', (e) => assert.match(e.message, /code 1006/)));
    const second = session();
    const resumed = adapter.connect!(second);
    assert.equal((await gateway.waitForFrame(start + 1, 6)).d.seq, goodSeq);
    second.controller.abort();
    await resumed;
  });

  it('resolves on a RECONNECT request, closing resumably', async () => {
    const adapter = createDiscordAdapter(config(), testAdapterDeps());
    const first = session();
    const held = adapter.connect!(first);
    await gateway.waitFor(() => first.connectedCalls === 1, 'READY');
    const asked = gateway.current!;
    asked.socket.send(JSON.stringify({ op: 7, d: null }));
    await held;
    await gateway.waitFor(() => asked.closeCode !== null, 'the close');
    assert.equal(asked.closeCode, 4999);
    const second = session();
    const resumed = adapter.connect!(second);
    await gateway.waitForFrame(gateway.connections.indexOf(asked) + 2, 6);
    second.controller.abort();
    await resumed;
  });

  it('says why on a close it cannot recover from, and starts a new session next time', async () => {
    const adapter = createDiscordAdapter(config(), testAdapterDeps());
    const first = session();
    const held = adapter.connect!(first);
    await gateway.waitFor(() => first.connectedCalls === 1, 'READY');
    const start = gateway.connections.length;
    gateway.current!.socket.close(4014, 'Disallowed intent(s).');
    await assert.rejects(held, failsWith('IMG_ERR_PLATFORM_REJECTED', (e) => assert.match(e.message, /Privileged Gateway Intents/)));
    const second = session();
    const again = adapter.connect!(second);
    assert.equal((await gateway.waitForFrame(start + 1, 2)).op, 2, 'IDENTIFY, not RESUME');
    second.controller.abort();
    await again;
  });

  it('gives up a resume URL it cannot reach for the main Gateway, and resumes there', async () => {
    const adapter = createDiscordAdapter(config({ gatewayUrl: gateway.url }), testAdapterDeps());
    gateway.resumeGatewayUrl = 'ws://127.0.0.1:1';
    const first = session();
    const held = adapter.connect!(first);
    await gateway.waitFor(() => first.connectedCalls === 1, 'READY');
    gateway.resumeGatewayUrl = null;
    const start = gateway.connections.length;
    gateway.drop();
    await assert.rejects(held, failsWith('IMG_ERR_PLATFORM_UNREACHABLE'));
    await assert.rejects(adapter.connect!(session()), failsWith('IMG_ERR_PLATFORM_UNREACHABLE', (e) => assert.match(e.message, /ECONNREFUSED/)));
    const third = session();
    const resumed = adapter.connect!(third);
    const resume = await gateway.waitForFrame(start + 1, 6);
    assert.equal(resume.d.session_id, gateway.sessionId);
    assert.equal(gateway.connections[start]!.path, '/');
    third.controller.abort();
    await resumed;
  });

  it('holds no connection when gateway is false', () => {
    assert.equal(createDiscordAdapter(config({ gateway: false }), testAdapterDeps()).connect, undefined);
  });
});
