import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ImgateError } from '../../src/core/errors.ts';
import type { ConnectionSession } from '../../src/platforms/_kit/adapter.ts';
import { ROBOT_TOPIC, holdDingtalkStream } from '../../src/platforms/dingtalk/connection.ts';
import { createDiscordAdapter } from '../../src/platforms/discord/index.ts';
import { testAdapterDeps, type TestAdapterDeps } from '../helpers/adapter-deps.ts';
import { FakeDingtalkStream } from '../helpers/fake-dingtalk-stream.ts';
import { BOT_USER_ID, messageData } from '../helpers/fake-discord.ts';
import { FakeOpGateway } from '../helpers/fake-op-gateway.ts';
import { FakeDingtalkApi, callbackBody, channel as dingtalkChannel } from '../platforms/dingtalk/helpers.ts';
import { channel as discordChannel } from '../platforms/discord/helpers.ts';
import { RUNS, arbitraryTime, hostileJson, shapedLike } from './arbitraries.ts';

/*
 * Long-connection frames on the wire: DingTalk's Stream frames (src/platforms/dingtalk/connection.ts)
 * and the op-code gateway Discord and QQ share (src/platforms/_kit/op-gateway.ts, through the Discord
 * adapter). Any frames the platform's side sends: no exception escapes (no unhandled rejection),
 * the connection goes on — or ends with an ImgateError the runtime reconnects after — and a valid
 * message sent after them is still stored and acknowledged.
 */


function session(): ConnectionSession & { controller: AbortController } {
  const controller = new AbortController();
  return { controller, signal: controller.signal, connected: () => undefined, disconnected: () => undefined };
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);

/** Polls `probe` every 2 ms (the shared waitFor's 50 ms would make each run wait that long). */
async function until<T>(probe: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const storedIds = (deps: TestAdapterDeps) => deps.sinkCalls.flatMap((call) => call.events.map((event) => event.message.platformId));

describe('property: long-connection frames', () => {
  before(() => process.on('unhandledRejection', onUnhandled));
  after(() => {
    process.off('unhandledRejection', onUnhandled);
    assert.deepEqual(unhandled, [], 'a frame led to an unhandled rejection');
  });

  it('DingTalk Stream: any frames leave the connection up, and the next robot message is stored and acknowledged', async () => {
    const api = new FakeDingtalkApi();
    const stream = new FakeDingtalkStream();
    await api.start();
    await stream.start();
    api.route('/v1.0/gateway/connections/open', () => ({ status: 200, body: { endpoint: stream.endpoint, ticket: stream.issueTicket() } }));
    const deps = testAdapterDeps();
    const lent = session();
    let settled: unknown = 'running';
    const held = holdDingtalkStream(dingtalkChannel({ mode: 'stream', apiBase: api.url }), deps, lent).then(
      () => (settled = null),
      (error: unknown) => (settled = error),
    );
    try {
      const socket = await until(() => stream.current, 'the stream connection');
      const frames = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 60 }),
        fc.json({ maxDepth: 3 }),
        fc
          .record({
            specVersion: fc.constantFrom('1.0', 1),
            type: fc.constantFrom('CALLBACK', 'SYSTEM', 'EVENT', 'x', 5),
            headers: fc.oneof(
              shapedLike({ appId: 'app', messageId: 'frame-1', contentType: 'application/json', time: '1', topic: ROBOT_TOPIC }, { topic: fc.constantFrom(ROBOT_TOPIC, 'ping', 'KEEPALIVE', '') }),
              hostileJson,
            ),
            data: fc.oneof(
              shapedLike(callbackBody(), { createAt: arbitraryTime, msgtype: fc.constantFrom('text', 'picture', 'richText', 'x') }).map((body) => JSON.stringify(body) ?? ''),
              fc.string(),
              fc.integer(),
            ),
          })
          .map((frame) => JSON.stringify(frame)),
      );
      let n = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(frames, { minLength: 1, maxLength: 4 }), async (sent) => {
          for (const frame of sent) socket.send(frame);
          n += 1;
          const msgId = `msgProperty${n}`;
          const messageId = stream.pushCallback(callbackBody({ msgId }));
          await until(() => (stream.acksOf(messageId).length > 0 ? true : undefined), 'the acknowledgement');
          assert.ok(storedIds(deps).includes(msgId), 'the valid message was stored');
          assert.equal(settled, 'running', 'the connection is still held');
        }),
        { numRuns: RUNS.frames },
      );
    } finally {
      lent.controller.abort();
      await held;
      await stream.stop();
      await api.stop();
    }
  });

  it('Discord/QQ op-code gateway: any frames give a stored next dispatch, or end the connection with an ImgateError', async () => {
    const gateway = new FakeOpGateway(60_000, BOT_USER_ID);
    await gateway.start();
    const deps = testAdapterDeps();
    const adapter = createDiscordAdapter(discordChannel({ gatewayUrl: gateway.url, apiBase: 'http://127.0.0.1:9/api' }), deps);
    let lent = session();
    let outcome: { error: unknown } | null = null;
    let held: Promise<void> = Promise.resolve();
    const connect = async () => {
      const count = gateway.connections.length;
      lent = session();
      outcome = null;
      held = adapter.connect!(lent).then(
        () => void (outcome = { error: null }),
        (error: unknown) => void (outcome = { error }),
      );
      // The fake answers the IDENTIFY with READY (a RESUME with RESUMED, or INVALID_SESSION), at once.
      await gateway.waitFor(() => gateway.connections.length > count && gateway.current!.frames.some((frame) => frame.op === 2 || frame.op === 6), 'an IDENTIFY or RESUME');
      await new Promise((resolve) => setTimeout(resolve, 10));
    };
    const frames = fc.oneof(
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
      { weight: 1, arbitrary: fc.json({ maxDepth: 2 }) },
      {
        weight: 4,
        arbitrary: fc
          .record({
            op: fc.constantFrom(0, 0, 0, 1, 3, 7, 9, 10, 11, 'x', null),
            t: fc.constantFrom('MESSAGE_CREATE', 'MESSAGE_DELETE', 'READY', 'RESUMED', 'GUILD_CREATE', 5),
            s: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 4 })),
            d: fc.oneof(shapedLike(messageData(), { timestamp: arbitraryTime }), fc.boolean(), hostileJson),
          })
          .map((frame) => JSON.stringify(frame)),
      },
    );
    let n = 0;
    try {
      await connect();
      await fc.assert(
        fc.asyncProperty(fc.array(frames, { minLength: 1, maxLength: 3 }), async (sent) => {
          if (outcome !== null) await connect();
          for (const frame of sent) gateway.current?.socket.send(frame);
          n += 1;
          const id = `13000000000000${String(n).padStart(5, '0')}`;
          // Let the frames be read before the valid dispatch follows them.
          await new Promise((resolve) => setTimeout(resolve, 5));
          if (outcome === null) gateway.dispatch('MESSAGE_CREATE', messageData({ id }));
          await until(() => (storedIds(deps).includes(id) || outcome !== null ? true : undefined), 'the dispatch stored or the connection ended');
          const ended = outcome as { error: unknown } | null;
          if (ended !== null && ended.error !== null) {
            assert.ok(ended.error instanceof ImgateError, `the connection ended with ${String(ended.error)}`);
          }
        }),
        { numRuns: RUNS.frames },
      );
      assert.ok(storedIds(deps).some((id) => id.startsWith('13000000000000')), 'no valid dispatch was stored');
    } finally {
      lent.controller.abort();
      await held;
      await gateway.stop();
    }
  });
});
