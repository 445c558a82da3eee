import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeOpGateway } from '../helpers/fake-op-gateway.ts';
import { removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { admin, call, eventsOf, waitFor } from '../helpers/http.ts';
import { APP_ID, FakeQqApi, SECRET, TOKEN_PREFIX, dispatch, signedHeaders } from '../platforms/qq/helpers.ts';
import { QQ_DEFAULT_INTENTS } from '../../src/platforms/qq/config.ts';

describe('qq channel in websocket mode, end to end', () => {
  let gw: TestGateway;
  const api = new FakeQqApi();
  const gateway = new FakeOpGateway(300, 'qq-bot-user');
  const status = async () => (await admin('GET', `${gw.url}/v1/channels`)).json.data.find((c: any) => c.id === 'qq-ws');
  const storedWith = async (platformId: string) => (await eventsOf(gw.url)).filter((e) => e.message.platformId === platformId);
  /** A message dispatch as QQ's gateway sends it: the `d` of a webhook dispatch. */
  const messageData = (id: string, content = 'hello over the gateway') => dispatch('C2C_MESSAGE_CREATE', { id, content }).d as Record<string, unknown>;

  before(async () => {
    await api.start();
    await gateway.start();
    api.route('/gateway', () => ({ status: 200, body: { url: gateway.url } }));
    const hosts = { apiBase: api.url, tokenBase: `${api.url}${TOKEN_PREFIX}` };
    gw = await startTestGateway({
      channels: [
        { id: 'qq-ws', platform: 'qq', mode: 'websocket', appId: APP_ID, secret: SECRET, ...hosts, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } },
        { id: 'qq-hook', platform: 'qq', appId: APP_ID, secret: SECRET, ...hosts },
      ],
    });
    await waitFor(async () => ((await status()).connected ? true : undefined), 10_000, 'the gateway connection');
  });

  after(async () => {
    await gw.close();
    await gateway.stop();
    await api.stop();
    removeDir(gw.dir);
  });

  it('identifies with the access token from getAppAccessToken and the configured intents', async () => {
    const identify = gateway.sent(2)[0]!;
    assert.deepEqual(identify.d, { token: 'QQBot qq-token-1', intents: QQ_DEFAULT_INTENTS, shard: [0, 1], properties: {} });
    assert.equal(api.requestsTo('/gateway')[0]!.headers.authorization, 'QQBot qq-token-1');
    assert.equal((await status()).lastError, null);
  });

  it('stores a message from the gateway as the same event webhook mode makes of it', async () => {
    const data = messageData('ROBOT1.0_ws_same');
    gateway.dispatch('C2C_MESSAGE_CREATE', data);
    const body = JSON.stringify({ op: 0, id: 'C2C_MESSAGE_CREATE:ws-same', t: 'C2C_MESSAGE_CREATE', d: data });
    const viaHook = await call('POST', `${gw.url}/hooks/qq-hook`, { body, headers: signedHeaders(body) });
    assert.equal(viaHook.status, 200, viaHook.text);
    const [a, b] = await waitFor(async () => {
      const found = await storedWith('ROBOT1.0_ws_same');
      return found.length === 2 ? found : undefined;
    }, 5000, 'both events');
    const comparable = (e: any) => ({ type: e.type, sender: e.sender, conversation: e.conversation, message: { ...e.message, id: undefined } });
    assert.deepEqual(comparable(a), comparable(b));
  });

  it('resumes after a drop mid-stream with no message lost or stored twice', async () => {
    gateway.dispatch('C2C_MESSAGE_CREATE', messageData('ROBOT1.0_before_drop'));
    await waitFor(async () => ((await storedWith('ROBOT1.0_before_drop')).length ? true : undefined), 5000, 'the first message');
    const resumes = gateway.sent(6).length;
    gateway.drop();
    // Sent while the connection is down: only the RESUME's replay delivers them.
    gateway.dispatch('C2C_MESSAGE_CREATE', messageData('ROBOT1.0_during_drop_1'));
    gateway.dispatch('C2C_MESSAGE_CREATE', messageData('ROBOT1.0_during_drop_2'));
    await waitFor(async () => ((await storedWith('ROBOT1.0_during_drop_2')).length ? true : undefined), 10_000, 'the replay');
    const resume = gateway.sent(6)[resumes]!;
    assert.equal(resume.d.token, 'QQBot qq-token-1');
    assert.equal(resume.d.session_id, gateway.sessionId);
    for (const id of ['ROBOT1.0_before_drop', 'ROBOT1.0_during_drop_1', 'ROBOT1.0_during_drop_2']) {
      assert.equal((await storedWith(id)).length, 1, id);
    }
    assert.equal(gateway.sent(2).length, 1, 'resumed, not identified again');
  });

  it('acknowledges other dispatches without storing them', async () => {
    const before = (await eventsOf(gw.url)).length;
    gateway.dispatch('GROUP_ADD_ROBOT', { group_openid: 'G1', op_member_openid: 'M1', timestamp: 1 });
    gateway.dispatch('C2C_MESSAGE_CREATE', messageData('ROBOT1.0_after_other'));
    await waitFor(async () => ((await storedWith('ROBOT1.0_after_other')).length ? true : undefined), 5000, 'the next message');
    assert.equal((await eventsOf(gw.url)).length, before + 1);
  });

  it('passes over a message it cannot read and goes on, without reconnecting', async () => {
    const connections = gateway.connections.length;
    gateway.dispatch('C2C_MESSAGE_CREATE', { content: 'no id', author: { user_openid: 'U1' } });
    gateway.dispatch('C2C_MESSAGE_CREATE', messageData('ROBOT1.0_after_unreadable'));
    await waitFor(async () => ((await storedWith('ROBOT1.0_after_unreadable')).length ? true : undefined), 5000, 'the next message');
    assert.equal(gateway.connections.length, connections);
  });

  it('identifies afresh after close code 4006 (invalid session), and resumes after 4009 (session timed out)', async () => {
    const identifies = gateway.sent(2).length;
    const resumes = gateway.sent(6).length;
    gateway.closeWith(4009);
    await waitFor(() => (gateway.sent(6).length > resumes ? true : undefined), 5000, 'a RESUME');
    assert.equal(gateway.sent(2).length, identifies);
    await waitFor(async () => ((await status()).connected ? true : undefined), 5000, 'connected again');
    gateway.closeWith(4006);
    await waitFor(() => (gateway.sent(2).length > identifies ? true : undefined), 5000, 'an IDENTIFY');
    await waitFor(async () => ((await status()).connected ? true : undefined), 5000, 'connected again');
  });

  it('explains a close code that needs the operator', async () => {
    gateway.closeWith(4914);
    const shown = await waitFor(async () => {
      const current = await status();
      return current.lastError?.code === 'IMG_ERR_PLATFORM_REJECTED' ? current : undefined;
    }, 5000, 'the explanation');
    assert.match(shown.lastError.message, /4914.*offline.*sandbox/);
    await waitFor(async () => ((await status()).connected ? true : undefined), 5000, 'connected again');
  });

  it('refuses webhook callbacks on a websocket-mode channel', async () => {
    const body = JSON.stringify(dispatch('C2C_MESSAGE_CREATE'));
    const answer = await call('POST', `${gw.url}/hooks/qq-ws`, { body, headers: signedHeaders(body) });
    assert.equal(answer.status, 400);
    assert.equal(answer.json.error.code, 'IMG_ERR_INBOUND_UNSUPPORTED');
  });
});
