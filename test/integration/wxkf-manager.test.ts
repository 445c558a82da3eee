import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { ADMIN_TOKEN, API_TOKEN, makeTempDir, removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { call, waitFor } from '../helpers/http.ts';
import { FakeWecomApi, tokenOf, WECOM_KEYS, wecomCallback, wecomUrlCheck } from '../helpers/wecom.ts';

const CORP_SECRET = 'kf-secret-for-the-manager-test';
const PUPPET_KF = 'wkPuppetAccount0001';
const OTHER_KF = 'wkImgateAccount0002';
const OTHER_CORP = 'ww_another_corp';
const OTHER_CORP_SECRET = 'the-other-corps-kf-secret';

function kfNotice(openKfId: string, token: string): string {
  return `<xml><ToUserName><![CDATA[${WECOM_KEYS.corpId}]]></ToUserName><CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event><Token><![CDATA[${token}]]></Token><OpenKfId><![CDATA[${openKfId}]]></OpenKfId></xml>`;
}

describe('the WXKF manager contract', () => {
  let gw: TestGateway;
  const wecom = new FakeWecomApi();
  const puppet = new FakeHttpServer(() => ({ status: 200, body: 'success' }));
  const callbackUrl = () => `${gw.url}/callback/${WECOM_KEYS.corpId}`;

  before(async () => {
    await Promise.all([wecom.start(), puppet.start()]);
    wecom.route('/cgi-bin/kf/sync_msg', () => ({ status: 200, body: { errcode: 0, errmsg: 'ok', next_cursor: 'c1', has_more: 0, msg_list: [] } }));
    gw = await startTestGateway({
      channels: [
        {
          id: 'kf',
          platform: 'wecom-kf',
          apiBase: wecom.url,
          corpId: WECOM_KEYS.corpId,
          corpSecret: CORP_SECRET,
          token: WECOM_KEYS.token,
          encodingAESKey: WECOM_KEYS.encodingAESKey,
          pollIntervalSeconds: 0,
        },
        {
          id: 'kf-other-corp',
          platform: 'wecom-kf',
          apiBase: wecom.url,
          corpId: OTHER_CORP,
          corpSecret: OTHER_CORP_SECRET,
          token: WECOM_KEYS.token,
          encodingAESKey: WECOM_KEYS.encodingAESKey,
          pollIntervalSeconds: 0,
        },
      ],
    });
  });

  after(async () => {
    await gw.close();
    await Promise.all([wecom.stop(), puppet.stop()]);
    removeDir(gw.dir);
  });

  it('answers the URL check of /callback/:corpId with the decrypted echostr', async () => {
    const answer = await call('GET', `${callbackUrl()}?${wecomUrlCheck('echo+/=2025')}`);
    assert.equal(answer.status, 200);
    assert.equal(answer.text, 'echo+/=2025');
  });

  it('refuses to register a puppet without the admin token or the corp secret', async () => {
    const anonymous = await call('POST', `${gw.url}/puppetWxkfManager/register`, {
      body: { kfId: PUPPET_KF, endpoint: puppet.url, corpId: WECOM_KEYS.corpId },
    });
    assert.equal(anonymous.status, 401);
    const wrong = await call('POST', `${gw.url}/puppetWxkfManager/register`, {
      body: { kfId: PUPPET_KF, endpoint: puppet.url, corpId: WECOM_KEYS.corpId, corpSecret: 'not-the-secret' },
    });
    assert.equal(wrong.status, 401);
  });

  it('forwards a registered puppet its callback byte for byte, with the original query string', async () => {
    const registered = await call('POST', `${gw.url}/puppetWxkfManager/register`, {
      body: { kfId: PUPPET_KF, endpoint: `${puppet.url}/`, corpId: WECOM_KEYS.corpId, corpSecret: CORP_SECRET, kfName: 'Puppet' },
    });
    assert.equal(registered.status, 200, registered.text);
    assert.deepEqual(registered.json, { code: 0, message: 'success' });

    const callback = wecomCallback(kfNotice(PUPPET_KF, 'notice-token-1'));
    const syncsBefore = wecom.requestsTo('/cgi-bin/kf/sync_msg').length;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      // WeCom retries a notice it got no answer for; the puppet still gets it once. A proxy on the
      // way may have changed the content type: the puppet is sent application/xml whatever came.
      const answer = await call('POST', `${callbackUrl()}?${callback.query}`, { body: callback.body, headers: { 'content-type': 'text/plain' } });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.text, 'success');
    }
    await puppet.waitForRequests(1);
    const [forwarded] = puppet.requests;
    assert.equal(forwarded?.method, 'POST');
    assert.equal(forwarded?.url, `/callback?${callback.query}`);
    assert.equal(forwarded?.headers['content-type'], 'application/xml');
    assert.equal(forwarded?.body.toString('utf8'), callback.body);
    assert.equal(wecom.requestsTo('/cgi-bin/kf/sync_msg').length, syncsBefore, 'imgate does not pull for a puppet');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(puppet.requests.length, 1);
  });

  it('takes a callback for an account without a puppet itself: the kf channel pulls', async () => {
    const callback = wecomCallback(kfNotice(OTHER_KF, 'notice-token-2'));
    const answer = await call('POST', `${callbackUrl()}?${callback.query}`, { body: callback.body, headers: { 'content-type': 'text/xml' } });
    assert.equal(answer.status, 200, answer.text);
    const pull = await waitFor(() => wecom.requestsTo('/cgi-bin/kf/sync_msg').find((r) => JSON.parse(r.body.toString('utf8')).open_kfid === OTHER_KF));
    assert.equal(JSON.parse(pull.body.toString('utf8')).token, 'notice-token-2');
  });

  it('refuses a callback with a bad signature and forwards nothing', async () => {
    const callback = wecomCallback(kfNotice(PUPPET_KF, 'notice-token-3'), { token: 'some-other-token' });
    const before = puppet.requests.length;
    const answer = await call('POST', `${callbackUrl()}?${callback.query}`, { body: callback.body });
    assert.equal(answer.status, 401);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(puppet.requests.length, before);
  });

  it('answers 404 for a corp it has no wecom-kf channel for', async () => {
    const callback = wecomCallback(kfNotice(PUPPET_KF, 'notice-token-4'));
    const answer = await call('POST', `${gw.url}/callback/ww_unknown_corp?${callback.query}`, { body: callback.body });
    assert.equal(answer.status, 404);
  });

  it('forwards decrypted notices from an authenticated gateway to the puppet, answering roger', async () => {
    const notice = { token: 'notice-token-5', openKfId: PUPPET_KF };
    const anonymous = await call('POST', `${gw.url}/callback/decrypted/${WECOM_KEYS.corpId}`, { body: notice });
    assert.equal(anonymous.status, 401);
    const before = puppet.requests.length;
    const answer = await call('POST', `${gw.url}/callback/decrypted/${WECOM_KEYS.corpId}`, {
      body: notice,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.text, 'roger');
    await puppet.waitForRequests(before + 1);
    const forwarded = puppet.requests[before];
    assert.equal(forwarded?.url, '/callback/decrypted');
    assert.deepEqual(JSON.parse(forwarded?.body.toString('utf8') ?? ''), notice);
  });

  it('hands an authenticated puppet the cached access token, fetched once', async () => {
    const url = `${gw.url}/puppetWxkfManager/getToken?corpid=${WECOM_KEYS.corpId}&corpsecret=${CORP_SECRET}`;
    const first = await call('GET', url);
    const second = await call('GET', url);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json.errcode, 0);
    assert.equal(typeof first.json.access_token, 'string');
    assert.equal(second.json.access_token, first.json.access_token);
    assert.ok(first.json.expires_in > 0 && first.json.expires_in <= 7200);
    assert.equal(wecom.gettokenCalls, 1);
    const wrong = await call('GET', `${gw.url}/puppetWxkfManager/getToken?corpid=${WECOM_KEYS.corpId}&corpsecret=guess`);
    assert.equal(wrong.status, 401);
    assert.ok(!gw.logText().includes(CORP_SECRET), 'the corp secret is never logged');
    assert.ok(!gw.logText().includes(String(first.json.access_token)), 'the access token is never logged');
  });

  it("lets another gateway take its tokens from getToken through a channel's tokenUrl", async () => {
    const other = await startTestGateway({
      channels: [
        {
          id: 'app',
          platform: 'wecom',
          apiBase: wecom.url,
          tokenUrl: `${gw.url}/puppetWxkfManager/getToken`,
          corpId: WECOM_KEYS.corpId,
          corpSecret: CORP_SECRET,
          agentId: 1000002,
          token: WECOM_KEYS.token,
          encodingAESKey: WECOM_KEYS.encodingAESKey,
        },
      ],
    });
    try {
      const tokensBefore = wecom.gettokenCalls;
      const sent = await call('POST', `${other.url}/v1/messages`, { token: API_TOKEN, body: { channel: 'app', to: 'zhangsan', text: 'hi' } });
      assert.equal(sent.status, 200, sent.text);
      const [send] = wecom.requestsTo('/cgi-bin/message/send');
      const shared = await call('GET', `${gw.url}/puppetWxkfManager/getToken?corpid=${WECOM_KEYS.corpId}&corpsecret=${CORP_SECRET}`);
      assert.equal(tokenOf(send!), shared.json.access_token, 'the send used the token the first gateway holds');
      assert.equal(wecom.gettokenCalls, tokensBefore, 'WeCom was not asked for another token');

      // WeCom now says that token expired (42001): the second gateway passes the refused token to
      // getToken, the first renews it once from WeCom, and the send succeeds with the new one.
      wecom.expiredTokens.add(String(shared.json.access_token));
      const retried = await call('POST', `${other.url}/v1/messages`, { token: API_TOKEN, body: { channel: 'app', to: 'zhangsan', text: 'again' } });
      assert.equal(retried.status, 200, retried.text);
      assert.equal(wecom.gettokenCalls, tokensBefore + 1);
      const renewed = await call('GET', `${gw.url}/puppetWxkfManager/getToken?corpid=${WECOM_KEYS.corpId}&corpsecret=${CORP_SECRET}`);
      assert.notEqual(renewed.json.access_token, shared.json.access_token);
      assert.equal(tokenOf(wecom.requestsTo('/cgi-bin/message/send').at(-1)!), renewed.json.access_token);
    } finally {
      await other.close();
      removeDir(other.dir);
    }
  });

  it('lists a puppet among the subscriptions but refuses to rewrite it as an ordinary one', async () => {
    const id = encodeURIComponent(`puppet:kf:${PUPPET_KF}`);
    const listed = await call('GET', `${gw.url}/v1/subscriptions/${id}`, { token: ADMIN_TOKEN });
    assert.equal(listed.status, 200, listed.text);
    assert.equal(listed.json.source, 'puppet');
    assert.equal(listed.json.url, `${puppet.url}/callback`);
    const rewrite = await call('PUT', `${gw.url}/v1/subscriptions/${id}`, {
      token: ADMIN_TOKEN,
      body: { url: 'http://127.0.0.1:9/elsewhere', secret: 'whatever-secret-123' },
    });
    assert.equal(rewrite.status, 400);
    assert.match(rewrite.json.error.message, /registered WXKF puppet/);
  });

  it("does not let one corp's secret touch another corp's puppet", async () => {
    const deregister = await call('POST', `${gw.url}/puppetWxkfManager/deregister`, {
      body: { kfId: PUPPET_KF, corpId: OTHER_CORP, corpSecret: OTHER_CORP_SECRET },
    });
    assert.equal(deregister.status, 404, 'no such puppet in the other corp');
    const hijack = await call('POST', `${gw.url}/puppetWxkfManager/register`, {
      body: { kfId: PUPPET_KF, endpoint: 'http://127.0.0.1:9/evil', corpId: OTHER_CORP, corpSecret: OTHER_CORP_SECRET },
    });
    assert.equal(hijack.status, 200, 'registering in its own corp is allowed');
    const before = puppet.requests.length;
    const callback = wecomCallback(kfNotice(PUPPET_KF, 'notice-token-7'));
    await call('POST', `${callbackUrl()}?${callback.query}`, { body: callback.body });
    await puppet.waitForRequests(before + 1);
    assert.equal(puppet.requests[before]?.url, `/callback?${callback.query}`, "the first corp's notice still reaches its own puppet");
  });

  it('stops forwarding after the puppet deregisters as it does (kfId, kfName, corpId, no secret): the channel takes the account back', async () => {
    const unknown = await call('POST', `${gw.url}/puppetWxkfManager/deregister`, { body: { kfId: 'wkNoSuchPuppet', kfName: 'Nobody', corpId: WECOM_KEYS.corpId } });
    assert.equal(unknown.status, 404);
    const answer = await call('POST', `${gw.url}/puppetWxkfManager/deregister`, { body: { kfId: PUPPET_KF, kfName: 'Puppet', corpId: WECOM_KEYS.corpId } });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.json, { code: 0, message: 'success' });
    const before = puppet.requests.length;
    const callback = wecomCallback(kfNotice(PUPPET_KF, 'notice-token-6'));
    await call('POST', `${callbackUrl()}?${callback.query}`, { body: callback.body });
    await waitFor(() => wecom.requestsTo('/cgi-bin/kf/sync_msg').find((r) => JSON.parse(r.body.toString('utf8')).token === 'notice-token-6'));
    assert.equal(puppet.requests.length, before);
    const again = await call('POST', `${gw.url}/puppetWxkfManager/deregister`, {
      body: { kfId: PUPPET_KF, corpId: WECOM_KEYS.corpId },
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(again.status, 404);
  });
});

describe('a KF account a puppet owns is not polled by the channel', () => {
  const wecom = new FakeWecomApi();
  const puppet = new FakeHttpServer(() => ({ status: 200, body: 'success' }));
  const dir = makeTempDir();
  let gw: TestGateway;
  const parts = () => ({
    channels: [
      {
        id: 'kf',
        platform: 'wecom-kf',
        apiBase: wecom.url,
        corpId: WECOM_KEYS.corpId,
        corpSecret: CORP_SECRET,
        token: WECOM_KEYS.token,
        encodingAESKey: WECOM_KEYS.encodingAESKey,
        openKfIds: [PUPPET_KF, OTHER_KF],
        pollIntervalSeconds: 1,
      },
    ],
  });
  /** The accounts sync_msg was asked for since `from`. */
  const polled = (from: number) =>
    wecom
      .requestsTo('/cgi-bin/kf/sync_msg')
      .slice(from)
      .map((request) => JSON.parse(request.body.toString('utf8')).open_kfid as string);

  before(async () => {
    await Promise.all([wecom.start(), puppet.start()]);
    wecom.route('/cgi-bin/kf/sync_msg', () => ({ status: 200, body: { errcode: 0, errmsg: 'ok', next_cursor: 'c1', has_more: 0, msg_list: [] } }));
    gw = await startTestGateway(parts(), dir);
  });
  after(async () => {
    await gw.close();
    await Promise.all([wecom.stop(), puppet.stop()]);
    removeDir(dir);
  });

  it('leaves it to the puppet from registration on, also after a restart, and polls it again once the puppet deregisters', async () => {
    await waitFor(() => (polled(0).includes(PUPPET_KF) ? true : undefined), 5000, 'a first poll of both accounts');
    const registered = await call('POST', `${gw.url}/puppetWxkfManager/register`, {
      body: { kfId: PUPPET_KF, kfName: 'Puppet', endpoint: puppet.url, corpId: WECOM_KEYS.corpId, corpSecret: CORP_SECRET },
    });
    assert.equal(registered.status, 200, registered.text);
    // A poll cycle under way may still have the account; from the next one on it is left out.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    let from = wecom.requestsTo('/cgi-bin/kf/sync_msg').length;
    await waitFor(() => (polled(from).filter((id) => id === OTHER_KF).length >= 2 ? true : undefined), 6000, 'two more polls');
    assert.deepEqual([...new Set(polled(from))], [OTHER_KF], 'the puppet\'s account is not polled');

    await gw.close();
    gw = await startTestGateway(parts(), dir);
    from = wecom.requestsTo('/cgi-bin/kf/sync_msg').length;
    await waitFor(() => (polled(from).filter((id) => id === OTHER_KF).length >= 2 ? true : undefined), 6000, 'two polls after the restart');
    assert.deepEqual([...new Set(polled(from))], [OTHER_KF], 'nor after a restart');

    const deregistered = await call('POST', `${gw.url}/puppetWxkfManager/deregister`, { body: { kfId: PUPPET_KF, kfName: 'Puppet', corpId: WECOM_KEYS.corpId } });
    assert.equal(deregistered.status, 200, deregistered.text);
    from = wecom.requestsTo('/cgi-bin/kf/sync_msg').length;
    await waitFor(() => (polled(from).includes(PUPPET_KF) ? true : undefined), 6000, 'the account polled again');
  });
});
