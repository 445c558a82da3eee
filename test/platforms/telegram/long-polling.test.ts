import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConnectionSession } from '../../../src/platforms/_kit/adapter.ts';
import { OFFSET_CURSOR, pollUpdates } from '../../../src/platforms/telegram/long-polling.ts';
import { CursorMovedError } from '../../../src/store/store.ts';
import { testAdapterDeps } from '../../helpers/adapter-deps.ts';
import { BOT_ID, FakeTelegramApi, PRIVATE_CHAT, message, update } from '../../helpers/fake-telegram.ts';
import { waitFor } from '../../helpers/http.ts';
import { channel } from './helpers.ts';

function session(): ConnectionSession & { controller: AbortController; accepted: number } {
  const controller = new AbortController();
  const s = { controller, accepted: 0, signal: controller.signal, connected: () => void (s.accepted += 1), disconnected: () => undefined };
  return s;
}

describe('telegram getUpdates loop', () => {
  const api = new FakeTelegramApi();
  const bot = { userId: String(BOT_ID), username: null };
  before(() => api.start());
  after(() => api.stop());

  it('stores each batch with the next offset, expecting the one it read, one event per update with its own bytes', async () => {
    const deps = testAdapterDeps();
    deps.cursors.values.set(OFFSET_CURSOR, '41');
    api.queueUpdates(update(41, { message: message(1, PRIVATE_CHAT, { text: 'a' }) }), update(42, { message: message(2, PRIVATE_CHAT, { text: 'b' }) }));
    const s = session();
    const running = pollUpdates({ config: channel({ mode: 'polling', apiBase: api.url, pollTimeoutSeconds: 0 }), bot, deps }, s);
    await waitFor(() => (deps.sinkCalls.length > 0 ? true : undefined), 5000, 'a batch');
    s.controller.abort();
    await running;
    const [call] = deps.sinkCalls;
    assert.deepEqual(call!.options, { cursor: { key: OFFSET_CURSOR, value: '43', expected: '41' } });
    assert.deepEqual(call!.events.map((e) => e.message.text), ['a', 'b']);
    assert.equal(JSON.parse(call!.events[0]!.rawBody!.toString('utf8')).update_id, 41);
    assert.equal(s.accepted, 1, 'connected once getUpdates answered');
    assert.equal((await api.calls('getUpdates'))[0]!.offset, 41);
  });

  it('fails when the store does, leaving the offset where it was; goes on from a moved offset', async () => {
    const deps = testAdapterDeps();
    api.queueUpdates(update(50, { message: message(3, PRIVATE_CHAT, { text: 'c' }) }));
    deps.sink.ingest = async () => {
      throw new Error('the store is down');
    };
    const config = channel({ mode: 'polling', apiBase: api.url, pollTimeoutSeconds: 0 });
    await assert.rejects(pollUpdates({ config, bot, deps }, session()), /the store is down/);
    assert.equal(deps.cursors.values.size, 0);

    let refused = false;
    deps.sink.ingest = async (_events, _raw, options) => {
      if (!refused) {
        refused = true;
        deps.cursors.values.set(OFFSET_CURSOR, '51');
        throw new CursorMovedError('tg', OFFSET_CURSOR);
      }
      deps.cursors.values.set(OFFSET_CURSOR, options!.cursor!.value);
      return [];
    };
    api.queueUpdates(update(51, { message: message(4, PRIVATE_CHAT, { text: 'd' }) }));
    const s = session();
    const running = pollUpdates({ config, bot, deps }, s);
    await waitFor(() => (deps.cursors.values.get(OFFSET_CURSOR) === '52' ? true : undefined), 5000, 'the offset past 51');
    s.controller.abort();
    await running;
    assert.ok((await api.calls('getUpdates')).some((call) => call.offset === 51), 'asked again from the moved offset');
  });
});
