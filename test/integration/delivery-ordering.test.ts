import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeHttpServer, type RecordedRequest } from '../helpers/fake-http.ts';
import { removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { call, padproHeaders, waitFor } from '../helpers/http.ts';

const SECRET = 'ordering-test-secret';
const CONVERSATIONS = ['111@chatroom', '222@chatroom', '333@chatroom'];
const PER_CONVERSATION = 12;

/** A deterministic stand-in for randomness, so that a failure can be replayed. */
function* pseudoRandom(seed: number): Generator<number> {
  let state = seed;
  for (;;) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    yield state / 2 ** 31;
  }
}

describe('ordering: conversation', () => {
  let gw: TestGateway;
  const random = pseudoRandom(20261204);
  let inFlight = 0;
  let most = 0;
  const answered: { conversation: string; seq: number; status: number }[] = [];
  // Slow at random (0–60 ms), and one answer in six a 500, so that some events need a retry.
  const subscriber = new FakeHttpServer((request: RecordedRequest) => {
    const event = JSON.parse(request.body.toString());
    const status = (random.next().value as number) < 1 / 6 ? 500 : 200;
    inFlight += 1;
    most = Math.max(most, inFlight);
    const wait = new Promise<void>((resolve) =>
      setTimeout(() => {
        inFlight -= 1;
        answered.push({ conversation: event.conversation.id, seq: Number(event.message.text.split(' ')[1]), status });
        resolve();
      }, Math.floor((random.next().value as number) * 60)),
    );
    return { status, wait };
  });
  const unorderedSubscriber = new FakeHttpServer();

  before(async () => {
    await subscriber.start();
    await unorderedSubscriber.start();
    gw = await startTestGateway({
      channels: [{ id: 'wx', platform: 'wechat-pad', secret: SECRET }],
      subscriptions: [
        { id: 'ordered', url: `${subscriber.url}/in`, secret: 'ordered-secret', ordering: 'conversation', retry: { schedule: [0.05, 0.05, 0.05, 0.05, 0.05, 0.05] } },
        { id: 'unordered', url: `${unorderedSubscriber.url}/in`, secret: 'unordered-secret' },
      ],
    });
  });

  after(async () => {
    await gw.close();
    await subscriber.stop();
    await unorderedSubscriber.stop();
    removeDir(gw.dir);
  });

  it('delivers each conversation in the order stored, one at a time, and the conversations in parallel', async () => {
    // Stored in this order: conversation by conversation, interleaved (the callbacks one after another).
    for (let seq = 0; seq < PER_CONVERSATION; seq += 1) {
      for (const [index, conversation] of CONVERSATIONS.entries()) {
        const body = JSON.stringify({
          msgId: `66${index}${String(seq).padStart(3, '0')}`,
          fromUser: conversation,
          toUser: 'wxid_bot',
          msgType: 1,
          content: `wxid_alice:\nmessage ${seq}`,
          createTime: 1700000000,
        });
        const answer = await call('POST', `${gw.url}/hooks/wx`, { body, headers: padproHeaders(SECRET, body) });
        assert.equal(answer.status, 200, answer.text);
      }
    }
    const total = CONVERSATIONS.length * PER_CONVERSATION;
    await waitFor(() => (answered.filter((a) => a.status === 200).length >= total ? true : undefined), 30_000, 'every event delivered');

    for (const conversation of CONVERSATIONS) {
      const attempts = answered.filter((a) => a.conversation === conversation);
      // Every attempt is of the event next in line: the one after the last success (a retry of it included).
      let next = 0;
      for (const attempt of attempts) {
        assert.equal(attempt.seq, next, `${conversation}: message ${attempt.seq} was sent while ${next} was still due`);
        if (attempt.status === 200) next += 1;
      }
      assert.equal(next, PER_CONVERSATION);
    }
    assert.ok(answered.some((a) => a.status === 500), 'some attempts failed and were retried in line');
    assert.ok(most > 1, 'different conversations were in flight at once');
    assert.ok(most <= CONVERSATIONS.length, `never two of one conversation at once (at most ${most} in flight)`);
    await waitFor(() => (unorderedSubscriber.requests.length >= total ? true : undefined), 10_000, 'the unordered subscription too');
  });
});
