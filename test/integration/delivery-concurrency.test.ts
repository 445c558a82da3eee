import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { call, padproHeaders, waitFor } from '../helpers/http.ts';

const SECRET = 'concurrency-test-secret';
const MAX_IN_FLIGHT = 16;
const FAILURES = 24;

/**
 * A subscriber that counts the requests it holds at once and answers 500 to the first FAILURES, then
 * 200. While failures are still to come it holds each request 200 ms (long enough for a whole burst
 * to be out on a busy machine), after that 40 ms.
 */
class CountingSubscriber {
  inFlight = 0;
  most = 0;
  /** The most held at once by the first requests that arrived after the last failure was answered. */
  mostRightAfterFailures = 0;
  /** The most held at once once 20 attempts had succeeded. */
  mostLater = 0;
  answered = 0;
  private arrivedAfterFailures = 0;
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      request.resume();
      request.on('end', () => this.hold(response));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private hold(response: ServerResponse): void {
    this.inFlight += 1;
    this.most = Math.max(this.most, this.inFlight);
    if (this.answered >= FAILURES && (this.arrivedAfterFailures += 1) <= 6) {
      this.mostRightAfterFailures = Math.max(this.mostRightAfterFailures, this.inFlight);
    }
    if (this.answered >= FAILURES + 20) this.mostLater = Math.max(this.mostLater, this.inFlight);
    setTimeout(
      () => {
        const status = this.answered < FAILURES ? 500 : 200;
        this.answered += 1;
        this.inFlight -= 1;
        response.writeHead(status).end();
      },
      // The failing answers wait long enough for the whole burst to be stored and sent first, also on a
      // loaded machine (at 200 ms the first failure could narrow the lane before the burst's last events arrived).
      this.answered < FAILURES ? 1000 : 40,
    );
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

describe('requests in flight to one subscriber', () => {
  let gw: TestGateway;
  const subscriber = new CountingSubscriber();

  before(async () => {
    await subscriber.start();
    gw = await startTestGateway({
      delivery: { concurrencyPerSubscription: MAX_IN_FLIGHT },
      channels: [{ id: 'wx', platform: 'wechat-pad', secret: SECRET }],
      subscriptions: [{ id: 'bot', url: `${subscriber.url}/in`, secret: 'bot-secret', retry: { schedule: [0.05, 0.05, 0.05, 0.05] } }],
    });
  });

  after(async () => {
    await gw.close();
    await subscriber.stop();
    removeDir(gw.dir);
  });

  it('starts wide, narrows for a subscriber whose attempts fail, and widens again as they succeed', async () => {
    const bodies = Array.from({ length: 48 }, (_, i) =>
      JSON.stringify({ msgId: `55${Date.now()}${i}`, fromUser: 'wxid_alice', toUser: 'wxid_bot', msgType: 1, content: `n ${i}`, createTime: 1700000000 }),
    );
    await Promise.all(bodies.map((body) => call('POST', `${gw.url}/hooks/wx`, { body, headers: padproHeaders(SECRET, body) })));
    await waitFor(() => (subscriber.answered >= 48 + FAILURES ? true : undefined), 20_000, 'every event delivered');

    assert.equal(subscriber.most, MAX_IN_FLIGHT, 'a burst to a fresh subscriber goes out as wide as allowed');
    assert.ok(
      subscriber.mostRightAfterFailures < MAX_IN_FLIGHT / 2,
      `right after ${FAILURES} failed attempts the worker held ${subscriber.mostRightAfterFailures} requests at once`,
    );
    assert.ok(subscriber.mostLater > subscriber.mostRightAfterFailures, `and later ${subscriber.mostLater} again`);
  });
});
