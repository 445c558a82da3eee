import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createDiscordAdapter } from '../../../src/platforms/discord/index.ts';
import { holdConnection } from '../../../src/runtime/long-connection.ts';
import type { ChannelStatus } from '../../../src/runtime/channels.ts';
import { capturingLogger, testAdapterDeps } from '../../helpers/adapter-deps.ts';
import { API, BOT_USER_ID, FakeDiscordApi } from '../../helpers/fake-discord.ts';
import { FakeOpGateway } from '../../helpers/fake-op-gateway.ts';
import { waitFor } from '../../helpers/http.ts';
import { channel } from './helpers.ts';

const RECONNECTS = 50;
/** Reconnect at once, so that 50 attempts take well under a second or two. */
const TINY_BACKOFF = { initialDelayMs: 1, maxDelayMs: 2 };

/** Listeners on the runtime's signal and pending timers: what a leak per reconnect would grow. */
function resources(signal: AbortSignal): { listeners: number; timers: number } {
  return {
    listeners: getEventListeners(signal, 'abort').length,
    timers: process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length,
  };
}

/** A port on 127.0.0.1 with nothing listening: connections to it are refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

interface Run {
  controller: AbortController;
  held: Promise<void>;
  /** Resolves when the attempt after the 50 reconnects (and 5 before them) starts. */
  done: Promise<void>;
  /** Resources at the start of each attempt (nothing of the previous one is in flight then). */
  seen: Map<number, { listeners: number; timers: number }>;
  lines: string[];
  status: ChannelStatus;
}

/** The Discord adapter held by the runtime's reconnect loop, as the gateway holds it, with a tiny backoff. */
function holdDiscord(apiBase: string): Run {
  const { logger, lines } = capturingLogger();
  const adapter = createDiscordAdapter(channel({ apiBase }), testAdapterDeps(logger));
  const controller = new AbortController();
  const seen = new Map<number, { listeners: number; timers: number }>();
  let attempts = 0;
  let finish: () => void = () => undefined;
  // Awaited rather than polled: a polling timer would be counted among the timers.
  const done = new Promise<void>((resolve) => (finish = resolve));
  const status: ChannelStatus = { connected: false, lastEventAt: null, lastPullAt: null, lastError: null };
  const connect = adapter.connect!.bind(adapter);
  const counted = {
    connect: (session: Parameters<typeof connect>[0]) => {
      attempts += 1;
      seen.set(attempts, resources(controller.signal));
      if (attempts === RECONNECTS + 5) finish();
      return connect(session);
    },
  };
  const held = holdConnection({ id: 'dc', adapter: counted, status, reconnect: TINY_BACKOFF }, controller.signal, logger);
  return { controller, held, done, seen, lines, status };
}

const parsed = (lines: string[]) => lines.map((line) => JSON.parse(line) as { level: number; msg: string; err?: unknown });

describe('discord gateway while the Discord API cannot be reached', () => {
  const api = new FakeDiscordApi();
  const gateway = new FakeOpGateway(100, BOT_USER_ID);

  before(async () => {
    await api.start();
    await gateway.start();
  });
  after(async () => {
    await gateway.stop();
    await api.stop();
  });

  it(`adds no listener to the shutdown signal and no timer over ${RECONNECTS} reconnects refused at the TCP level`, { timeout: 30_000 }, async () => {
    const run = holdDiscord(`http://127.0.0.1:${await closedPort()}/api`);
    await run.done;
    run.controller.abort();
    await run.held;
    assert.deepEqual(run.seen.get(RECONNECTS + 5), run.seen.get(5), `attempt 5 vs attempt ${RECONNECTS + 5}`);
    assert.equal(getEventListeners(run.controller.signal, 'abort').length, 0, 'nothing left on the signal after shutdown');
    assert.equal(run.status.lastError?.code, 'IMG_ERR_PLATFORM_UNREACHABLE');

    const lines = parsed(run.lines);
    const warnings = lines.filter((line) => line.level === 40);
    assert.equal(warnings.length, 1, `one warning for the whole outage: ${warnings.map((line) => line.msg).join(' | ')}`);
    assert.match(warnings[0]!.msg, /^long connection unreachable: GET \/gateway\/bot failed: ECONNREFUSED; retrying$/);
    assert.ok(lines.every((line) => line.err === undefined), 'no error object (and so no stack) is logged');
    assert.ok(lines.filter((line) => line.level === 20 && line.msg.startsWith('long connection still unreachable')).length >= RECONNECTS, 'repeats at debug');
  });

  it(`adds none over ${RECONNECTS} answers of HTTP 503, and says once that it is reachable again`, { timeout: 30_000 }, async () => {
    api.route(`${API}/gateway/bot`, () => ({ status: 503, body: 'upstream connect error' }));
    const run = holdDiscord(`${api.url}/api`);
    await run.done;
    assert.deepEqual(run.seen.get(RECONNECTS + 5), run.seen.get(5), `attempt 5 vs attempt ${RECONNECTS + 5}`);

    api.gatewayUrl = gateway.url;
    api.route(`${API}/gateway/bot`, null);
    await waitFor(() => (run.status.connected ? true : undefined), 10_000, 'the connection once Discord answers');
    run.controller.abort();
    await run.held;
    assert.equal(getEventListeners(run.controller.signal, 'abort').length, 0, 'nothing left on the signal after shutdown');

    const lines = parsed(run.lines);
    const warnings = lines.filter((line) => line.level === 40);
    assert.deepEqual(
      warnings.map((line) => line.msg),
      ['long connection unreachable: Discord answered GET /gateway/bot with HTTP 503; retrying'],
    );
    const recovered = lines.filter((line) => line.level === 30 && line.msg.startsWith('long connection reachable again after'));
    assert.equal(recovered.length, 1);
    assert.ok(lines.every((line) => line.err === undefined), 'no error object (and so no stack) is logged');
  });
});
