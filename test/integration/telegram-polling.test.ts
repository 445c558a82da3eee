import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { makeTempDir, removeDir, spawnGateway, startTestGateway, type GatewayProcess, type TestGateway } from '../helpers/gateway.ts';
import { admin, eventsOf, waitFor } from '../helpers/http.ts';
import { ALICE, BOT_TOKEN, FakeTelegramApi, GROUP_CHAT, PRIVATE_CHAT, message, update } from '../helpers/fake-telegram.ts';

function pollingChannel(apiBase: string): Record<string, unknown> {
  return { id: 'tg', platform: 'telegram', mode: 'polling', token: BOT_TOKEN, apiBase, pollTimeoutSeconds: 1, reconnect: { initialDelayMs: 100, maxDelayMs: 300 } };
}

const tgChannel = async (gateway: TestGateway) => (await admin('GET', `${gateway.url}/v1/channels`)).json.data.find((c: { id: string }) => c.id === 'tg');
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('telegram polling mode (getUpdates, offset in the store)', () => {
  const api = new FakeTelegramApi();
  const subscriber = new FakeHttpServer();
  const dir = makeTempDir();
  let gateway: TestGateway;
  const start = () => startTestGateway({ channels: [pollingChannel(api.url)], subscriptions: [{ id: 'bot', url: `${subscriber.url}/in`, secret: 'tg-subscriber-secret' }] }, dir);

  before(async () => {
    await api.start();
    await subscriber.start();
  });

  after(async () => {
    await gateway?.close();
    await api.stop();
    await subscriber.stop();
    removeDir(dir);
  });

  it('pulls updates with getUpdates, stores and delivers them, and confirms them with the next offset', async () => {
    api.queueUpdates(
      update(700001, { message: message(1, PRIVATE_CHAT, { text: 'first' }) }),
      update(700002, { message: message(2, GROUP_CHAT, { text: 'second' }) }),
      update(700003, { my_chat_member: { chat: GROUP_CHAT } }),
    );
    gateway = await start();
    await subscriber.waitForRequests(2);
    const calls = await waitFor(async () => {
      const made = await api.calls('getUpdates');
      return made.some((call) => call.offset === 700004) ? made : undefined;
    }, 5000, 'getUpdates with offset 700004');
    assert.deepEqual(calls[0], { timeout: 1, allowed_updates: ['message', 'edited_message', 'channel_post', 'callback_query'] }, 'the first call, with no stored offset');
    const texts = (await eventsOf(gateway.url)).map((e) => e.message.text).sort();
    assert.deepEqual(texts, ['first', 'second']);
    const channel = await tgChannel(gateway);
    assert.equal(channel.connected, true);
    const cluster = await admin('GET', `${gateway.url}/v1/cluster`);
    assert.ok(cluster.json.leases.some((lease: { name: string }) => lease.name === 'connection:tg'), 'held under the connection lease');
  });

  it('answers a button press with answerCallbackQuery once it is stored', async () => {
    api.queueUpdates(update(700004, { callback_query: { id: 'cbq-poll', from: ALICE, message: message(3, PRIVATE_CHAT, { text: 'menu' }), chat_instance: '9', data: 'yes' } }));
    const answered = await waitFor(async () => (await api.calls('answerCallbackQuery'))[0], 5000, 'answerCallbackQuery');
    assert.deepEqual(answered, { callback_query_id: 'cbq-poll' });
    assert.ok((await eventsOf(gateway.url)).some((e) => e.message.platformId === 'cbq-poll'));
  });

  it('resumes from the stored offset after a restart: a stored update is neither lost nor delivered again', async () => {
    // The update is stored, then the gateway stops before a getUpdates confirms it to Telegram.
    let hold: () => void = () => undefined;
    api.queueUpdates(update(700005, { message: message(4, PRIVATE_CHAT, { text: 'before the restart' }) }));
    await waitFor(async () => ((await eventsOf(gateway.url)).some((e) => e.message.text === 'before the restart') ? true : undefined), 5000, 'the update stored');
    api.route(api.pathOf('getUpdates'), () => ({ status: 200, body: { ok: true, result: [] }, wait: new Promise<void>((resolve) => (hold = resolve)) }));
    await delay(1500);
    await gateway.close();
    hold();
    api.route(api.pathOf('getUpdates'), null);
    const delivered = subscriber.requests.length;
    // The first answer after the restart repeats the stored update, as Telegram does with one it
    // was never told is confirmed; then the fake goes back to honouring the offset.
    const repeated = [update(700005, { message: message(4, PRIVATE_CHAT, { text: 'before the restart' }) }), update(700006, { message: message(5, PRIVATE_CHAT, { text: 'after the restart' }) })];
    api.route(api.pathOf('getUpdates'), () => {
      api.route(api.pathOf('getUpdates'), null);
      return { status: 200, body: { ok: true, result: repeated } };
    });
    const callsBefore = (await api.calls('getUpdates')).length;
    gateway = await start();
    await subscriber.waitForRequests(delivered + 1);
    const [firstAfterRestart, secondAfterRestart] = (await waitFor(async () => {
      const made = (await api.calls('getUpdates')).slice(callsBefore);
      return made.length >= 2 ? made : undefined;
    }, 5000, 'two getUpdates after the restart'))!;
    assert.equal(firstAfterRestart?.offset, 700006, 'the offset stored with the last batch');
    assert.equal(secondAfterRestart?.offset, 700007);
    await delay(500);
    const events = await eventsOf(gateway.url);
    assert.equal(events.filter((e) => e.message.text === 'before the restart').length, 1);
    assert.equal(events.filter((e) => e.message.text === 'after the restart').length, 1);
    assert.equal(subscriber.requests.length, delivered + 1);
  });

  it('reports a webhook set for the bot (getUpdates 409) as a clear error and keeps trying', async () => {
    api.webhookUrl = 'https://example.test/hooks/tg';
    const failed = await waitFor(async () => {
      const channel = await tgChannel(gateway);
      return channel.lastError?.message.includes('webhook') ? channel : undefined;
    }, 10_000, 'the 409 recorded');
    assert.equal(failed.connected, false);
    assert.equal(failed.lastError.code, 'IMG_ERR_PLATFORM_REJECTED');
    assert.match(failed.lastError.message, /while a webhook is set .*imgate telegram delete-webhook/);
    api.webhookUrl = '';
    api.queueUpdates(update(700007, { message: message(6, PRIVATE_CHAT, { text: 'webhook gone' }) }));
    await waitFor(async () => ((await eventsOf(gateway.url)).some((e) => e.message.text === 'webhook gone') ? true : undefined), 10_000, 'polling again');
    assert.ok(!gateway.logText().includes(BOT_TOKEN.split(':')[1]!), 'the token is in the log');
  });
});

describe('telegram polling across a SIGKILL (the gateway as its own process)', () => {
  const api = new FakeTelegramApi();
  const subscriber = new FakeHttpServer();
  const dir = makeTempDir();
  const children: GatewayProcess[] = [];
  const start = async () => {
    const child = await spawnGateway(dir, { channels: [pollingChannel(api.url)], subscriptions: [{ id: 'bot', url: `${subscriber.url}/in`, secret: 'tg-subscriber-secret' }] });
    children.push(child);
    return child;
  };
  const delivered = () => subscriber.requests.map((r) => JSON.parse(r.body.toString('utf8')).message.text as string).sort();

  before(async () => {
    await api.start();
    await subscriber.start();
  });
  after(async () => {
    for (const child of children) child.child.kill('SIGKILL');
    await api.stop();
    await subscriber.stop();
    removeDir(dir);
  });

  it('a kill after a batch is stored, before Telegram heard of it, neither loses nor repeats an update', async () => {
    api.queueUpdates(update(800001, { message: message(1, PRIVATE_CHAT, { text: 'one' }) }), update(800002, { message: message(2, PRIVATE_CHAT, { text: 'two' }) }));
    // The call that would confirm the batch (offset 800003) is never answered, so Telegram still
    // holds both updates when the gateway dies.
    api.route(api.pathOf('getUpdates'), (request) => {
      const offset = JSON.parse(request.body.toString('utf8')).offset;
      if (offset === undefined) return { status: 200, body: { ok: true, result: [update(800001, { message: message(1, PRIVATE_CHAT, { text: 'one' }) }), update(800002, { message: message(2, PRIVATE_CHAT, { text: 'two' }) })] } };
      return { status: 200, body: { ok: true, result: [] }, wait: new Promise<void>(() => undefined) };
    });
    const first = await start();
    await subscriber.waitForRequests(2);
    await waitFor(async () => ((await api.calls('getUpdates')).some((call) => call.offset === 800003) ? true : undefined), 5000, 'the confirming call');
    first.child.kill('SIGKILL');
    await first.exited;

    api.route(api.pathOf('getUpdates'), null);
    api.queueUpdates(update(800003, { message: message(3, PRIVATE_CHAT, { text: 'three' }) }));
    const callsBefore = (await api.calls('getUpdates')).length;
    const second = await start();
    await subscriber.waitForRequests(3, 15_000);
    assert.equal((await api.calls('getUpdates'))[callsBefore]?.offset, 800003, 'the restarted gateway asks from the stored offset');
    await delay(500);
    assert.deepEqual(delivered(), ['one', 'three', 'two']);
    second.child.kill('SIGTERM');
    await second.exited;
  });
});
