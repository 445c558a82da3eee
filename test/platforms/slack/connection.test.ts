import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { ConnectionSession } from '../../../src/platforms/_kit/adapter.ts';
import { holdSlackSocket } from '../../../src/platforms/slack/connection.ts';
import { testAdapterDeps } from '../../helpers/adapter-deps.ts';
import { rejection } from '../../helpers/errors.ts';
import { FakeSlackApi } from '../../helpers/fake-slack.ts';
import { FakeSlackSocket } from '../../helpers/fake-slack-socket.ts';
import { waitFor } from '../../helpers/http.ts';
import { APP_TOKEN, BOT_TOKEN, channel, eventCallback, messageEvent } from './helpers.ts';

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

function session(): ConnectionSession & { controller: AbortController; connectedCalls: number } {
  const controller = new AbortController();
  lentSessions.push(controller);
  const lent = {
    controller,
    signal: controller.signal,
    connectedCalls: 0,
    connected: () => void (lent.connectedCalls += 1),
    disconnected: () => undefined,
  };
  return lent;
}

describe('Slack Socket Mode connection', () => {
  const api = new FakeSlackApi(BOT_TOKEN);
  const socket = new FakeSlackSocket();
  const config = () => channel({ mode: 'socket', appToken: APP_TOKEN, signingSecret: undefined, apiBase: api.url });

  before(async () => {
    await Promise.all([api.start(), socket.start()]);
    api.route('/api/apps.connections.open', () => ({ status: 200, body: { ok: true, url: socket.issueUrl() } }));
  });
  afterEach(() => {
    for (const controller of lentSessions.splice(0)) controller.abort();
  });
  after(async () => {
    await socket.stop();
    await api.stop();
  });

  it('is connected once Slack says hello, and stores the raw event_callback of an envelope', async () => {
    const { deps, commits } = heldSink();
    const lent = session();
    const held = holdSlackSocket(config(), deps, lent);
    await waitFor(() => (lent.connectedCalls > 0 ? true : undefined), 5000, 'hello');
    const payload = eventCallback(messageEvent());
    const envelope = socket.pushEvent(payload);
    await waitFor(() => (commits.length > 0 ? true : undefined), 5000, 'the commit');
    assert.equal(socket.acksOf(envelope).length, 0, 'no ack before the commit');
    commits.shift()!();
    await waitFor(() => (socket.acksOf(envelope).length > 0 ? true : undefined), 5000, 'the ack');
    assert.deepEqual(JSON.parse(deps.sinkCalls[0]!.rawBody.toString('utf8')), payload);
    lent.controller.abort();
    await held;
  });

  it('at shutdown, acknowledges the envelope being stored before it closes', async () => {
    const { deps, commits } = heldSink();
    const lent = session();
    const held = holdSlackSocket(config(), deps, lent);
    await waitFor(() => (lent.connectedCalls > 0 ? true : undefined), 5000, 'hello');
    const envelope = socket.pushEvent(eventCallback(messageEvent()));
    await waitFor(() => (commits.length > 0 ? true : undefined), 5000, 'the commit');
    lent.controller.abort();
    commits.shift()!();
    await held;
    assert.equal(socket.acksOf(envelope).length, 1);
    assert.equal(socket.closeCodes.at(-1), 1000);
  });

  it('ends with a refusal when Slack disables Socket Mode for the app (link_disabled)', async () => {
    const lent = session();
    const held = holdSlackSocket(config(), testAdapterDeps(), lent);
    await waitFor(() => (lent.connectedCalls > 0 ? true : undefined), 5000, 'hello');
    socket.disconnect('link_disabled');
    const error = await rejection(held);
    assert.equal(error.code, 'IMG_ERR_PLATFORM_REJECTED');
    assert.equal(error.details?.refused, true);
  });

  it('ends with a refusal when apps.connections.open refuses the token', async () => {
    api.route('/api/apps.connections.open', () => ({ status: 200, body: { ok: false, error: 'not_allowed_token_type' } }));
    try {
      const error = await rejection(holdSlackSocket(config(), testAdapterDeps(), session()));
      assert.equal(error.details?.refused, true);
      assert.match(error.message, /xapp-/);
      assert.ok(!error.message.includes(APP_TOKEN));
    } finally {
      api.route('/api/apps.connections.open', () => ({ status: 200, body: { ok: true, url: socket.issueUrl() } }));
    }
  });
});
