import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { ConnectionSession } from '../../../src/platforms/_kit/adapter.ts';
import { holdDingtalkStream } from '../../../src/platforms/dingtalk/connection.ts';
import { testAdapterDeps } from '../../helpers/adapter-deps.ts';
import { FakeDingtalkStream } from '../../helpers/fake-dingtalk-stream.ts';
import { waitFor } from '../../helpers/http.ts';
import { FakeDingtalkApi, callbackBody, channel } from './helpers.ts';

/** A sink whose commits finish only when the test says so. */
function heldSink() {
  const commits: (() => void)[] = [];
  const deps = testAdapterDeps();
  const ingest = deps.sink.ingest;
  deps.sink.ingest = async (events, rawBody, options) => {
    await new Promise<void>((resolve) => commits.push(resolve));
    return ingest(events, rawBody, options);
  };
  return { deps, commits };
}

/** Connections lent in a test, ended after it whatever happened, so that a failed test cannot hang the run. */
const lentSessions: AbortController[] = [];

function session(): ConnectionSession & { controller: AbortController } {
  const controller = new AbortController();
  lentSessions.push(controller);
  return { controller, signal: controller.signal, connected: () => undefined, disconnected: () => undefined };
}

describe('DingTalk stream connection', () => {
  const api = new FakeDingtalkApi();
  const stream = new FakeDingtalkStream();
  const config = () => channel({ mode: 'stream', apiBase: api.url });

  before(async () => {
    await api.start();
    await stream.start();
    api.route('/v1.0/gateway/connections/open', () => ({ status: 200, body: { endpoint: stream.endpoint, ticket: stream.issueTicket() } }));
  });
  afterEach(() => {
    for (const controller of lentSessions.splice(0)) controller.abort();
  });
  after(async () => {
    await stream.stop();
    await api.stop();
  });

  for (const [why, end] of [
    ['DingTalk announces a disconnect', () => void stream.pushSystem('disconnect', '{}')],
    ['imgate shuts down', (lent: ReturnType<typeof session>) => lent.controller.abort()],
  ] as const) {
    it(`acknowledges the callback being stored before it closes, when ${why}`, async () => {
      const { deps, commits } = heldSink();
      const lent = session();
      const closes = stream.closeCodes.length;
      const held = holdDingtalkStream(config(), deps, lent);
      await waitFor(() => stream.current, 5000, 'the connection');
      const messageId = stream.pushCallback(callbackBody({ msgId: `msgHeld-${closes}` }));
      await waitFor(() => (commits.length === 1 ? true : undefined), 5000, 'the store begun');
      end(lent);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(stream.closeCodes.length, closes, 'still open while the callback is being stored');
      commits[0]!();
      await held;
      assert.equal(stream.acksOf(messageId).length, 1, 'acknowledged');
      await waitFor(() => (stream.closeCodes.length > closes ? true : undefined), 5000, 'the close');
      assert.equal(stream.closeCodes.at(-1), 1000);
    });
  }
});
