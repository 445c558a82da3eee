import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseXmlSafely } from '../../../src/platforms/_kit/xml.ts';
import { normalizeWecomMessage } from '../../../src/platforms/wecom/normalize.ts';
import { wecomPost } from '../../helpers/wecom.ts';
import { DECRYPTED, adapterFor, channel, onlyEvent } from './helpers.ts';

const receivedAt = new Date('2026-11-23T09:00:00.000Z');
const rawRequest = { contentType: 'text/xml', query: 'msg_signature=x&timestamp=1&nonce=2' };

function normalize(xml: string) {
  const message = parseXmlSafely(xml).xml as Record<string, unknown>;
  return normalizeWecomMessage(message, { receivedAt, rawRequest });
}

describe('wecom normalization', () => {
  it('reads a text message as a direct message from the member, keyed by MsgId', () => {
    const event = normalize(DECRYPTED.text);
    assert.equal(event.type, 'message');
    assert.equal(event.dedupKey, '7349268471863513114');
    assert.deepEqual(event.message, {
      platformId: '7349268471863513114',
      type: 'text',
      text: 'this is a test',
      createdAt: '2012-09-28T11:31:00.000Z',
      mentions: [],
      mentionsBot: false,
      replyTo: null,
      content: {},
    });
    assert.deepEqual(event.sender, { id: 'zhangsan', name: null, isSelf: false });
    assert.deepEqual(event.conversation, { id: 'zhangsan', type: 'direct', name: null });
    assert.deepEqual(event.flags, { history: false });
    assert.equal((event.raw as Record<string, unknown>).AgentID, '1000002');
    assert.deepEqual(event.rawRequest, rawRequest);
  });

  it('keeps a MsgId above 2^53 exact', () => {
    const event = normalize(DECRYPTED.text.replace('7349268471863513114', '9007199254740993'));
    assert.equal(event.dedupKey, '9007199254740993');
    assert.equal(event.message.platformId, '9007199254740993');
  });

  const media: [keyof typeof DECRYPTED, string, string, Record<string, unknown>][] = [
    ['image', 'image', '1234567890123456', { url: 'https://wework.qpic.cn/wwpic/123/0', mediaId: 'media_img_1' }],
    ['voice', 'voice', '1234567890123457', { mediaId: 'media_voice_1', format: 'amr' }],
    ['video', 'video', '1234567890123458', { mediaId: 'media_video_1', thumbMediaId: 'media_thumb_1' }],
    ['file', 'file', '1234567890123459', { mediaId: 'media_file_1', fileName: 'report.pdf', size: 20480 }],
    ['location', 'location', '1234567890123460', { latitude: 23.134521, longitude: 113.358803, scale: 15, label: '位置信息' }],
    [
      'link',
      'link',
      '1234567890123461',
      {
        title: 'this is a title!',
        description: 'this is a description!',
        url: 'https://example.com/article',
        picUrl: 'https://example.com/cover.png',
      },
    ],
  ];
  for (const [fixture, type, msgId, content] of media) {
    it(`reads a ${fixture} message into message.type ${type} with its content`, () => {
      const event = normalize(DECRYPTED[fixture]);
      assert.equal(event.type, 'message');
      assert.equal(event.message.type, type);
      assert.equal(event.message.text, null);
      assert.equal(event.dedupKey, msgId);
      assert.deepEqual(event.message.content, content);
      assert.deepEqual(event.conversation, { id: 'zhangsan', type: 'direct', name: null });
    });
  }

  it('reads subscribe, enter_agent and click events as system events keyed by sender, time, Event and a digest', () => {
    const subscribe = normalize(DECRYPTED.subscribe);
    assert.equal(subscribe.type, 'system');
    assert.equal(subscribe.message.type, 'system');
    assert.equal(subscribe.message.text, null);
    assert.deepEqual(subscribe.message.content, { event: 'subscribe', eventKey: null, details: {} });
    assert.match(subscribe.dedupKey, /^zhangsan:1348831860:subscribe:[0-9a-f]{16}$/);
    assert.equal(normalize(DECRYPTED.subscribe).dedupKey, subscribe.dedupKey, "WeCom's retry repeats the key");
    assert.equal(subscribe.message.platformId, subscribe.dedupKey);
    assert.deepEqual(subscribe.sender, { id: 'zhangsan', name: null, isSelf: false });

    const enter = normalize(DECRYPTED.enterAgent);
    assert.deepEqual(enter.message.content, { event: 'enter_agent', eventKey: null, details: {} });
    assert.match(enter.dedupKey, /^zhangsan:1348831860:enter_agent:[0-9a-f]{16}$/);

    const click = normalize(DECRYPTED.click);
    assert.deepEqual(click.message.content, { event: 'click', eventKey: 'MENU_HELP', details: {} });
  });

  it('keeps what an event says beyond the envelope in content.details', () => {
    const event = normalize(DECRYPTED.location_event);
    assert.deepEqual(event.message.content, {
      event: 'LOCATION',
      eventKey: null,
      details: { Latitude: '23.104105', Longitude: '113.320107', Precision: '65.000000', AppType: 'wxwork' },
    });
  });

  it('gives two events of one member in one second two keys, also of one kind (two menu clicks)', () => {
    assert.notEqual(normalize(DECRYPTED.subscribe).dedupKey, normalize(DECRYPTED.enterAgent).dedupKey);
    const other = DECRYPTED.click.replace('MENU_HELP', 'MENU_ORDER');
    assert.notEqual(normalize(DECRYPTED.click).dedupKey, normalize(other).dedupKey);
  });

  it('stores an unknown MsgType as message.type unknown, naming it', () => {
    const event = normalize(DECRYPTED.text.replace('<![CDATA[text]]>', '<![CDATA[mixed]]>'));
    assert.equal(event.message.type, 'unknown');
    assert.deepEqual(event.message.content, { msgType: 'mixed' });
  });

  it('takes the receive time when CreateTime is missing', () => {
    const event = normalize(DECRYPTED.text.replace('<CreateTime>1348831860</CreateTime>', ''));
    assert.equal(event.message.createdAt, receivedAt.toISOString());
  });

  it('takes the receive time when CreateTime is beyond what a Date holds, instead of throwing a RangeError (a 500)', () => {
    // Found by test/properties/wecom-callbacks.test.ts.
    for (const createTime of ['99999999999999999999', '1e300']) {
      const event = normalize(DECRYPTED.text.replace('<CreateTime>1348831860</CreateTime>', `<CreateTime>${createTime}</CreateTime>`));
      assert.equal(event.message.createdAt, receivedAt.toISOString());
    }
  });

  it('refuses a callback without FromUserName or MsgType', () => {
    assert.throws(() => normalize(DECRYPTED.text.replace('<FromUserName><![CDATA[zhangsan]]></FromUserName>', '')), {
      code: 'IMG_ERR_INBOUND_UNSUPPORTED',
    });
    assert.throws(() => normalize(DECRYPTED.text.replace('<MsgType><![CDATA[text]]></MsgType>', '')), {
      code: 'IMG_ERR_INBOUND_UNSUPPORTED',
    });
  });

  it('normalizes every fixture the same way once encrypted by @wecom/crypto and opened by the adapter', async () => {
    const adapter = adapterFor(channel());
    for (const xml of Object.values(DECRYPTED)) {
      const req = wecomPost(xml);
      const event = onlyEvent(await adapter.handleCallback(req));
      const direct = normalize(xml);
      assert.deepEqual({ ...event, rawRequest: undefined }, { ...direct, rawRequest: undefined });
      assert.deepEqual(event.rawRequest, { contentType: 'text/xml', query: req.rawQuery });
    }
  });
});
