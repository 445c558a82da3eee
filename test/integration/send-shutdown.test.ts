import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { API_TOKEN, makeTempDir, removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { call } from '../helpers/http.ts';

const PAD_SENT = { status: 200, body: { Code: 200, Data: [{ isSendSuccess: true, resp: { NewMsgId: '9001' } }], Text: '' } };

describe('a send in flight when the gateway stops', () => {
  const pad = new FakeHttpServer(() => PAD_SENT);
  const dirs: string[] = [];
  const gateways: TestGateway[] = [];
  const parts = (server: Record<string, unknown> = {}) => ({
    server,
    delivery: { enabled: false },
    channels: [{ id: 'wx', platform: 'wechat-pad', secret: 'shutdown-test-secret', apiBase: pad.url, key: 'pad-key-0123' }],
  });
  const body = { channel: 'wx', to: 'wxid_alice', text: 'pay 100' };

  /** Posts the send and hangs up once the pad server has it, as a client that gives up waiting. */
  async function sendAndHangUp(gw: TestGateway, key: string): Promise<void> {
    const seen = pad.requests.length;
    const hangUp = new AbortController();
    const sending = request(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
      signal: hangUp.signal,
    }).catch((error: unknown) => error);
    await pad.waitForRequests(seen + 1);
    hangUp.abort();
    assert.ok((await sending) instanceof Error, 'the client hung up before the answer');
  }

  const resend = (gw: TestGateway, key: string) => call('POST', `${gw.url}/v1/messages`, { body, token: API_TOKEN, headers: { 'idempotency-key': key } });

  before(() => pad.start());

  after(async () => {
    for (const gw of gateways) await gw.close();
    await pad.stop();
    for (const dir of dirs) removeDir(dir);
  });

  it('is waited for although its client hung up, so a retry after the restart gets its answer instead of sending again', async () => {
    const dir = makeTempDir();
    dirs.push(dir);
    let release: () => void = () => undefined;
    pad.respondWith({ ...PAD_SENT, wait: new Promise<void>((resolve) => (release = resolve)) });
    const first = await startTestGateway(parts(), dir);
    await sendAndHangUp(first, 'K-1');
    const calls = pad.requests.length;

    const closing = first.close();
    setTimeout(release, 200);
    await closing;
    assert.ok(!first.logText().includes('could not record'), first.logText());

    const second = await startTestGateway(parts(), dir);
    gateways.push(second);
    const retried = await resend(second, 'K-1');
    assert.equal(retried.status, 200, retried.text);
    assert.equal(retried.json.platformMessageId, '9001', 'the answer the pad server gave the first gateway');
    assert.equal(pad.requests.length, calls, 'sent once');
  });

  it('records a send still waiting at the end of its share of the shutdown timeout as of unknown outcome', async () => {
    const dir = makeTempDir();
    dirs.push(dir);
    let release: () => void = () => undefined;
    pad.respondWith({ ...PAD_SENT, wait: new Promise<void>((resolve) => (release = resolve)) });
    const first = await startTestGateway(parts({ shutdownTimeoutMs: 400 }), dir);
    try {
      await sendAndHangUp(first, 'K-2');
      const calls = pad.requests.length;
      await first.close(); // while the pad server still holds the answer
      assert.ok(first.logText().includes('their idempotency keys now answer that the outcome is unknown'));

      const second = await startTestGateway(parts(), dir);
      gateways.push(second);
      const retried = await resend(second, 'K-2');
      assert.equal(retried.status, 502, retried.text);
      assert.equal(retried.json.error.code, 'IMG_ERR_PLATFORM_UNREACHABLE');
      assert.deepEqual(retried.json.error.details, { reason: 'shutdown', outcome: 'unknown' });
      assert.equal(pad.requests.length, calls, 'not sent again');
    } finally {
      release();
    }
  });
});
