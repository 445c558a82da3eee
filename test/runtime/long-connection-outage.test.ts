import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import type { ConnectionSession } from '../../src/platforms/_kit/adapter.ts';
import { findPlatform } from '../../src/platforms/registry.ts';
import type { ChannelStatus } from '../../src/runtime/channels.ts';
import { holdConnection } from '../../src/runtime/long-connection.ts';
import { capturingLogger, testAdapterDeps } from '../helpers/adapter-deps.ts';
import { FakeHttpServer } from '../helpers/fake-http.ts';

/*
 * Every long connection the runtime holds, against a platform that refuses every connection, over
 * 50 reconnects with a tiny backoff (no answer at all, or an API that answers and a WebSocket that is refused): nothing may pile up on the shutdown signal or among the timers,
 * and the outage is one warning. (Discord's GET /gateway/bot, also with HTTP 503 answers and the
 * recovery, is in test/platforms/discord/unreachable.test.ts; Feishu's SDK retries by itself.)
 */

const RECONNECTS = 50;

/** A port on 127.0.0.1 with nothing listening: connections to it are refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

function resources(signal: AbortSignal): { listeners: number; timers: number } {
  return {
    listeners: getEventListeners(signal, 'abort').length,
    timers: process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length,
  };
}

/** `down`: nothing listens there; `api`: an API that hands out tokens and WebSocket URLs at `down`. Each with what its warning says. */
const channels = (down: string, api: string): [Record<string, unknown>, string][] => [
  [{ id: 'qq-api-down', platform: 'qq', mode: 'websocket', appId: '1024', secret: 'qq-secret-0123456789', apiBase: down, tokenBase: down }, 'getAppAccessToken failed: ECONNREFUSED'],
  [{ id: 'qq-gateway-down', platform: 'qq', mode: 'websocket', appId: '1024', secret: 'qq-secret-0123456789', apiBase: api, tokenBase: api }, "the connection to QQ's gateway failed: ECONNREFUSED"],
  [{ id: 'ding-api-down', platform: 'dingtalk', mode: 'stream', appKey: 'ding-key', appSecret: 'ding-secret', apiBase: down }, 'gateway/connections/open failed: ECONNREFUSED'],
  [{ id: 'ding-stream-down', platform: 'dingtalk', mode: 'stream', appKey: 'ding-key', appSecret: 'ding-secret', apiBase: api }, 'DingTalk stream closed (1006): connect ECONNREFUSED'],
  [{ id: 'dc-gateway-down', platform: 'discord', token: 'discord-bot-token', gatewayUrl: down.replace(/^http/, 'ws') }, 'the connection to the Discord Gateway failed: ECONNREFUSED'],
];

describe('long connections while the platform refuses every connection', async () => {
  const down = `http://127.0.0.1:${await closedPort()}`;
  const ws = down.replace(/^http/, 'ws');
  // QQ's token and /gateway answers, and DingTalk's connections/open answer, in one.
  const api = new FakeHttpServer(() => ({ status: 200, body: { access_token: 'token', expires_in: 7200, url: ws, endpoint: ws, ticket: 'ticket' } }));
  await api.start();
  after(() => api.stop());
  for (const [raw, shows] of channels(down, api.url)) {
    it(`${String(raw.platform)} (${String(raw.id)}): nothing grows over ${RECONNECTS} reconnects, one warning`, { timeout: 30_000 }, async () => {
      const definition = findPlatform(String(raw.platform));
      assert.ok(definition);
      const { logger, lines } = capturingLogger();
      const adapter = definition.create(definition.configSchema.parse({ ...raw, reconnect: { initialDelayMs: 1, maxDelayMs: 2 } }), testAdapterDeps(logger));
      assert.ok(adapter.connect);
      const connect = adapter.connect.bind(adapter);
      const controller = new AbortController();
      const seen = new Map<number, { listeners: number; timers: number }>();
      let attempts = 0;
      let finish: () => void = () => undefined;
      // Awaited rather than polled: a polling timer would be counted among the timers.
      const done = new Promise<void>((resolve) => (finish = resolve));
      const counted = async (session: ConnectionSession) => {
        attempts += 1;
        seen.set(attempts, resources(controller.signal));
        if (attempts === RECONNECTS + 5) finish();
        return connect(session);
      };
      const status: ChannelStatus = { connected: false, lastEventAt: null, lastPullAt: null, lastError: null };
      const held = holdConnection({ id: String(raw.id), adapter: { connect: counted }, status, reconnect: { initialDelayMs: 1, maxDelayMs: 2 } }, controller.signal, logger);
      await done;
      controller.abort();
      await held;

      assert.deepEqual(seen.get(RECONNECTS + 5), seen.get(5), `attempt 5 vs attempt ${RECONNECTS + 5}`);
      assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'nothing left on the signal after shutdown');
      assert.equal(status.lastError?.code, 'IMG_ERR_PLATFORM_UNREACHABLE');
      const logged = lines.map((line) => JSON.parse(line) as { level: number; msg: string; err?: unknown });
      const warnings = logged.filter((line) => line.level >= 40);
      assert.equal(warnings.length, 1, `one warning for the whole outage: ${warnings.map((line) => line.msg).join(' | ')}`);
      const warning = warnings[0]?.msg ?? '';
      assert.ok(warning.startsWith('long connection unreachable: ') && warning.includes(shows) && warning.endsWith('; retrying'), warning);
      assert.ok(logged.every((line) => line.err === undefined), 'no error object (and so no stack) is logged');
    });
  }
});
