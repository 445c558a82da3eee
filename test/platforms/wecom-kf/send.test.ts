import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { SendRequest } from '../../../src/platforms/_kit/adapter.ts';
import { createWecomKfAdapter } from '../../../src/platforms/wecom-kf/index.ts';
import { kfMsgid, parseKfConversationId } from '../../../src/platforms/wecom-kf/send.ts';
import { testAdapterDeps } from '../../helpers/adapter-deps.ts';
import { failsWith } from '../../helpers/errors.ts';
import { FAKE_PNG as PNG, FakeWecomApi, tokenOf, uploadedMedia } from '../../helpers/wecom.ts';
import { CUSTOMER, OPEN_KFID, SEND_PATH, bodyOf, channel } from './helpers.ts';

const TO = `${OPEN_KFID}:${CUSTOMER}`;

function sendRequest(overrides: Partial<SendRequest>): SendRequest {
  return { to: TO, mentions: [], replyTo: null, idempotencyKey: 'key-1', ...overrides };
}

describe('wecom-kf send (kf/send_msg)', () => {
  const api = new FakeWecomApi();
  const adapter = () => createWecomKfAdapter(channel({ apiBase: api.url }), testAdapterDeps());
  const lastSendBody = () => bodyOf(api.requestsTo(SEND_PATH).at(-1)!);

  before(() => api.start());
  after(() => api.stop());
  beforeEach(() => {
    api.route(SEND_PATH, () => ({ status: 200, body: { errcode: 0, errmsg: 'ok', msgid: 'wecom-msgid-1' } }));
    api.route('/cgi-bin/media/upload', () => ({ status: 200, body: { errcode: 0, errmsg: 'ok', type: 'image', media_id: 'media-1' } }));
  });

  it('sends text to the customer through the account, with a msgid derived from the idempotency key', async () => {
    const result = await adapter().send!(sendRequest({ text: 'hello' }));
    assert.deepEqual(result, { platformMessageId: 'wecom-msgid-1' });
    const body = lastSendBody();
    assert.deepEqual(body, { touser: CUSTOMER, open_kfid: OPEN_KFID, msgid: kfMsgid(TO, 'key-1'), msgtype: 'text', text: { content: 'hello' } });
    assert.match(body.msgid, /^[0-9a-f]{32}$/, "within WeCom's 32 characters of [0-9a-zA-Z_-]");
    assert.match(tokenOf(api.requestsTo(SEND_PATH).at(-1)!) ?? '', /^token-\d+$/);
  });

  it('gives a retried send the same msgid, so WeCom drops the repeat; another key or customer another', async () => {
    await adapter().send!(sendRequest({ text: 'a' }));
    const first = lastSendBody().msgid;
    await adapter().send!(sendRequest({ text: 'a' }));
    assert.equal(lastSendBody().msgid, first);
    assert.notEqual(kfMsgid(TO, 'key-2'), first);
    assert.notEqual(kfMsgid(`${OPEN_KFID}:wmAnotherCustomer`, 'key-1'), first);
  });

  it('sends markdown as its text (KF has no markdown)', async () => {
    await adapter().send!(sendRequest({ markdown: '**bold**' }));
    assert.deepEqual(lastSendBody().text, { content: '**bold**' });
    assert.equal(lastSendBody().msgtype, 'text');
  });

  it('uploads an image as multipart `media`, then sends its media_id', async () => {
    await adapter().send!(sendRequest({ image: { base64: PNG.toString('base64') } }));
    const upload = api.requestsTo('/cgi-bin/media/upload').at(-1)!;
    assert.equal(new URL(upload.url, 'http://x').searchParams.get('type'), 'image');
    const media = await uploadedMedia(upload);
    assert.equal(media.name, 'image.png');
    assert.deepEqual(Buffer.from(await media.arrayBuffer()), PNG);
    assert.deepEqual(lastSendBody(), {
      touser: CUSTOMER,
      open_kfid: OPEN_KFID,
      msgid: kfMsgid(TO, 'key-1'),
      msgtype: 'image',
      image: { media_id: 'media-1' },
    });
  });

  it('explains errcode 95001 (five messages after the customer\'s last) as a 422', async () => {
    api.route(SEND_PATH, () => ({ status: 200, body: { errcode: 95001, errmsg: 'send msg count limit' } }));
    await assert.rejects(
      adapter().send!(sendRequest({ text: 'sixth' })),
      failsWith('IMG_ERR_PLATFORM_REJECTED', (error) => {
        assert.equal(error.status, 422);
        assert.equal(
          error.message,
          "WeCom customer service allows at most 5 messages after the customer's last message; wait for the customer to write again (errcode 95001)",
        );
        assert.deepEqual(error.details, { errcode: 95001, errmsg: 'send msg count limit' });
      }),
    );
  });

  it('refuses mentions', async () => {
    await assert.rejects(adapter().send!(sendRequest({ text: 'x', mentions: ['someone'] })), failsWith('IMG_ERR_SEND_UNSUPPORTED'));
  });

  it('refuses a `to` that is not open_kfid:external_userid', async () => {
    for (const to of [CUSTOMER, `${OPEN_KFID}:`, `:${CUSTOMER}`, `${OPEN_KFID}:${CUSTOMER}:x`]) {
      assert.throws(() => parseKfConversationId(to), failsWith('IMG_ERR_VALIDATION'), to);
    }
    await assert.rejects(adapter().send!(sendRequest({ to: CUSTOMER, text: 'x' })), failsWith('IMG_ERR_VALIDATION'));
  });
});
