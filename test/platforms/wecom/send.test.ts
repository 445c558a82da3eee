import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { SendRequest } from '../../../src/platforms/_kit/adapter.ts';
import { capturingLogger, testAdapterDeps } from '../../helpers/adapter-deps.ts';
import { failsWith } from '../../helpers/errors.ts';
import { FAKE_PNG as PNG, FakeWecomApi, tokenOf, uploadedMedia } from '../../helpers/wecom.ts';
import { AGENT_ID, CORP_SECRET, adapterFor, channel } from './helpers.ts';

function sendRequest(overrides: Partial<SendRequest>): SendRequest {
  return { to: 'zhangsan', mentions: [], replyTo: null, idempotencyKey: 'k-1', ...overrides };
}

describe('wecom send', () => {
  const api = new FakeWecomApi();
  const { logger, lines: logLines } = capturingLogger();
  let deps = testAdapterDeps(logger);
  const adapter = () => adapterFor(channel({ apiBase: api.url }), deps);

  before(async () => {
    await api.start();
    api.route('/cgi-bin/message/send', () => ({ status: 200, body: { errcode: 0, errmsg: 'ok', invaliduser: '', msgid: 'msgid_abc' } }));
    api.route('/cgi-bin/media/upload', () => ({
      status: 200,
      body: { errcode: 0, errmsg: 'ok', type: 'image', media_id: 'media_uploaded_1', created_at: '1700000000' },
    }));
  });
  beforeEach(() => {
    deps = testAdapterDeps(logger);
  });
  after(() => api.stop());

  const lastSendBody = () => JSON.parse(api.requestsTo('/cgi-bin/message/send').at(-1)!.body.toString('utf8'));

  it('sends text to the member with the agentid and the access token, answering WeCom\'s msgid', async () => {
    const result = await adapter().send!(sendRequest({ text: 'hello' }));
    assert.deepEqual(result, { platformMessageId: 'msgid_abc' });
    assert.deepEqual(lastSendBody(), { touser: 'zhangsan', agentid: AGENT_ID, msgtype: 'text', text: { content: 'hello' } });
    const request = api.requestsTo('/cgi-bin/message/send').at(-1)!;
    assert.equal(request.method, 'POST');
    assert.match(tokenOf(request) ?? '', /^token-\d+$/);
  });

  it('sends markdown', async () => {
    await adapter().send!(sendRequest({ markdown: '**bold**' }));
    assert.deepEqual(lastSendBody(), { touser: 'zhangsan', agentid: AGENT_ID, msgtype: 'markdown', markdown: { content: '**bold**' } });
  });

  it('sends news (link cards)', async () => {
    const articles = [{ title: 'Release notes', description: 'what changed', url: 'https://example.com/notes', picurl: 'https://example.com/p.png' }];
    await adapter().send!(sendRequest({ news: { articles } }));
    assert.deepEqual(lastSendBody(), { touser: 'zhangsan', agentid: AGENT_ID, msgtype: 'news', news: { articles } });
  });

  it('uploads an image as multipart `media` with a filename, then sends its media_id', async () => {
    await adapter().send!(sendRequest({ image: { base64: PNG.toString('base64') } }));
    const upload = api.requestsTo('/cgi-bin/media/upload').at(-1)!;
    assert.equal(new URL(upload.url, 'http://x').searchParams.get('type'), 'image');
    const media = await uploadedMedia(upload);
    assert.equal(media.name, 'image.png');
    assert.equal(media.type, 'image/png');
    assert.deepEqual(Buffer.from(await media.arrayBuffer()), PNG);
    assert.deepEqual(lastSendBody(), { touser: 'zhangsan', agentid: AGENT_ID, msgtype: 'image', image: { media_id: 'media_uploaded_1' } });
  });

  it('fetches one token for many concurrent sends', async () => {
    const before = api.gettokenCalls;
    const sender = adapter();
    await Promise.all(Array.from({ length: 20 }, (_, i) => sender.send!(sendRequest({ text: `n${i}` }))));
    assert.equal(api.gettokenCalls, before + 1);
  });

  it('re-fetches the token once when WeCom says it expired (42001), and the send succeeds', async () => {
    const sender = adapter();
    await sender.send!(sendRequest({ text: 'first' }));
    const stale = tokenOf(api.requestsTo('/cgi-bin/message/send').at(-1)!)!;
    api.expiredTokens.add(stale);
    const before = api.gettokenCalls;
    const result = await sender.send!(sendRequest({ text: 'second' }));
    assert.equal(result.platformMessageId, 'msgid_abc');
    assert.equal(api.gettokenCalls, before + 1);
    assert.notEqual(tokenOf(api.requestsTo('/cgi-bin/message/send').at(-1)!), stale);
  });

  it('uploads the image again, whole, after a token re-fetch', async () => {
    const sender = adapter();
    await sender.send!(sendRequest({ text: 'warm' }));
    api.expiredTokens.add(tokenOf(api.requestsTo('/cgi-bin/message/send').at(-1)!)!);
    const uploads = api.requestsTo('/cgi-bin/media/upload').length;
    await sender.send!(sendRequest({ image: { base64: PNG.toString('base64') } }));
    const retried = api.requestsTo('/cgi-bin/media/upload').slice(uploads);
    assert.equal(retried.length, 2);
    assert.deepEqual(Buffer.from(await (await uploadedMedia(retried[1]!)).arrayBuffer()), PNG);
    assert.deepEqual(lastSendBody().image, { media_id: 'media_uploaded_1' });
  });

  it('refuses mentions with IMG_ERR_SEND_UNSUPPORTED, sending nothing', async () => {
    const before = api.server.requests.length;
    await assert.rejects(
      adapter().send!(sendRequest({ text: 'hi', mentions: ['lisi'] })),
      failsWith('IMG_ERR_SEND_UNSUPPORTED', (e) => assert.match(e.message, /mention/)),
    );
    assert.equal(api.server.requests.length, before);
  });

  it('refuses to send without agentId', async () => {
    const sender = adapterFor(channel({ apiBase: api.url, agentId: undefined }), deps);
    await assert.rejects(sender.send!(sendRequest({ text: 'hi' })), failsWith('IMG_ERR_SEND_UNSUPPORTED', (e) => assert.match(e.message, /agentId/)));
  });

  it('turns an errcode into IMG_ERR_PLATFORM_REJECTED with the errcode, explained', async () => {
    // A queued answer goes to the next request: cache the token first, so that it is the send.
    const sender = adapter();
    await sender.send!(sendRequest({ text: 'warm' }));
    api.server.respondWith({ status: 200, body: { errcode: 60020, errmsg: 'not allow to access from your ip' } });
    await assert.rejects(
      sender.send!(sendRequest({ text: 'hi' })),
      failsWith('IMG_ERR_PLATFORM_REJECTED', (e) => {
        assert.equal(e.status, 422);
        assert.deepEqual(e.details, { errcode: 60020, errmsg: 'not allow to access from your ip' });
        assert.match(e.message, /trusted IP/);
      }),
    );
  });

  it('refuses when WeCom lists the only recipient as invalid, and succeeds when some were valid', async () => {
    const sender = adapter();
    await sender.send!(sendRequest({ text: 'warm' }));
    api.server.respondWith({ status: 200, body: { errcode: 0, errmsg: 'ok', invaliduser: 'ghost', msgid: 'm1' } });
    await assert.rejects(sender.send!(sendRequest({ to: 'ghost', text: 'hi' })), failsWith('IMG_ERR_PLATFORM_REJECTED'));
    api.server.respondWith({ status: 200, body: { errcode: 0, errmsg: 'ok', invaliduser: 'ghost', msgid: 'm2' } });
    assert.deepEqual(await sender.send!(sendRequest({ to: 'zhangsan|ghost', text: 'hi' })), { platformMessageId: 'm2' });
  });

  it('answers a null platformMessageId when WeCom gives no msgid', async () => {
    const sender = adapter();
    await sender.send!(sendRequest({ text: 'warm' }));
    api.server.respondWith({ status: 200, body: { errcode: 0, errmsg: 'ok' } });
    assert.deepEqual(await sender.send!(sendRequest({ text: 'hi' })), { platformMessageId: null });
  });

  it('never logs the corp secret or an access token', () => {
    const text = logLines.join('');
    assert.ok(logLines.length > 0);
    assert.ok(!text.includes(CORP_SECRET));
    assert.doesNotMatch(text, /token-\d+/);
  });
});
