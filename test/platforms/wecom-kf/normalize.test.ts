import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HISTORY_AFTER_MS, normalizeKfMessage } from '../../../src/platforms/wecom-kf/normalize.ts';
import { CUSTOMER, OPEN_KFID, SERVICER, customerText, servicerText, systemEvent } from './helpers.ts';

const pulledAt = new Date('2026-11-23T09:00:00.000Z');
const at = (offsetMs: number) => Math.floor((pulledAt.getTime() + offsetMs) / 1000);

function normalize(entry: Record<string, unknown>) {
  const event = normalizeKfMessage(entry, { pulledAt });
  assert.ok(event, 'expected an event');
  return event;
}

/** Entries as https://kf.weixin.qq.com/api/doc/path/94745 lists them. */
const media = (msgtype: string, body: Record<string, unknown>) => ({
  msgid: `m-${msgtype}`,
  open_kfid: OPEN_KFID,
  external_userid: CUSTOMER,
  send_time: at(0),
  origin: 3,
  msgtype,
  [msgtype]: body,
});

describe('wecom-kf normalize', () => {
  it("makes a customer's text a message in the conversation open_kfid:external_userid", () => {
    const entry = customerText('msg-1', 'hello', { send_time: at(-1000) });
    const event = normalize(entry);
    assert.equal(event.dedupKey, 'msg-1');
    assert.equal(event.type, 'message');
    assert.deepEqual(event.message, {
      platformId: 'msg-1',
      type: 'text',
      text: 'hello',
      createdAt: new Date(at(-1000) * 1000).toISOString(),
      mentions: [],
      mentionsBot: false,
      replyTo: null,
      content: {},
    });
    assert.deepEqual(event.sender, { id: CUSTOMER, name: null, isSelf: false });
    assert.deepEqual(event.conversation, { id: `${OPEN_KFID}:${CUSTOMER}`, type: 'direct', name: null });
    assert.deepEqual(event.flags, { history: false });
    assert.equal(event.raw, entry);
  });

  it('keeps the menu_id of a text that answers a menu', () => {
    const event = normalize(customerText('msg-menu', 'Yes', { text: { content: 'Yes', menu_id: '101' } }));
    assert.deepEqual(event.message.content, { menuId: '101' });
  });

  it("flags a servicer's message (origin 5) as the account's own, sent by the servicer", () => {
    const event = normalize(servicerText('msg-5', 'how can I help?'));
    assert.equal(event.type, 'message');
    assert.deepEqual(event.sender, { id: SERVICER, name: null, isSelf: true });
    assert.equal(event.conversation.id, `${OPEN_KFID}:${CUSTOMER}`);
  });

  it('makes a system event (origin 4) a system event with the event in content', () => {
    const event = normalize(systemEvent('ev-1', { event_type: 'enter_session', external_userid: CUSTOMER, scene: '123', welcome_code: 'wc' }));
    assert.equal(event.type, 'system');
    assert.equal(event.message.type, 'system');
    assert.equal(event.message.text, null);
    assert.deepEqual(event.message.content, {
      eventType: 'enter_session',
      event: { open_kfid: OPEN_KFID, event_type: 'enter_session', external_userid: CUSTOMER, scene: '123', welcome_code: 'wc' },
    });
    assert.equal(event.conversation.id, `${OPEN_KFID}:${CUSTOMER}`, 'ids are read from inside the event');
    assert.equal(event.sender.id, CUSTOMER);
    assert.equal(event.sender.isSelf, false);
  });

  it('gives an event about the account alone the account as its conversation', () => {
    const event = normalize(systemEvent('ev-2', { event_type: 'servicer_status_change', servicer_userid: SERVICER, status: 1 }));
    assert.equal(event.type, 'system');
    assert.deepEqual(event.conversation, { id: OPEN_KFID, type: 'direct', name: null });
    assert.equal(event.sender.id, SERVICER);
  });

  it('makes a recall a message.recalled naming the withdrawn message', () => {
    const event = normalize(systemEvent('ev-3', { event_type: 'user_recall_msg', external_userid: CUSTOMER, recall_msgid: 'msg-1' }));
    assert.equal(event.type, 'message.recalled');
    assert.equal(event.message.type, 'system');
    assert.equal(event.message.content.recalledPlatformId, 'msg-1');
  });

  it('maps every documented msgtype onto the unified types', () => {
    const cases: [string, Record<string, unknown>, string, Record<string, unknown>][] = [
      ['image', { media_id: 'MI' }, 'image', { mediaId: 'MI' }],
      ['voice', { media_id: 'MV' }, 'voice', { mediaId: 'MV' }],
      ['video', { media_id: 'MD' }, 'video', { mediaId: 'MD' }],
      ['file', { media_id: 'MF' }, 'file', { mediaId: 'MF' }],
      [
        'location',
        { latitude: 23.1, longitude: 113.3, name: 'Canton Tower', address: 'Guangzhou' },
        'location',
        { latitude: 23.1, longitude: 113.3, name: 'Canton Tower', address: 'Guangzhou' },
      ],
      [
        'link',
        { title: 'T', desc: 'D', url: 'https://example.com', pic_url: 'https://example.com/p.png' },
        'link',
        { title: 'T', description: 'D', url: 'https://example.com', picUrl: 'https://example.com/p.png' },
      ],
      [
        'miniprogram',
        { title: 'Shop', appid: 'wx123', pagepath: 'pages/index', thumb_media_id: 'TM' },
        'link',
        { kind: 'miniprogram', title: 'Shop', appId: 'wx123', pagePath: 'pages/index', thumbMediaId: 'TM' },
      ],
      ['business_card', { userid: 'lisi' }, 'unknown', { msgtype: 'business_card', value: { userid: 'lisi' } }],
      ['channels_shop_order', { order_id: 'o1' }, 'unknown', { msgtype: 'channels_shop_order', value: { order_id: 'o1' } }],
    ];
    for (const [msgtype, body, type, content] of cases) {
      const event = normalize(media(msgtype, body));
      assert.equal(event.type, 'message', msgtype);
      assert.equal(event.message.type, type, msgtype);
      assert.equal(event.message.text, null, msgtype);
      assert.deepEqual(event.message.content, content, msgtype);
    }
  });

  it('flags messages sent more than five minutes before the pull as history', () => {
    assert.equal(normalize(customerText('old', 'x', { send_time: at(-HISTORY_AFTER_MS - 1000) })).flags.history, true);
    assert.equal(normalize(customerText('new', 'x', { send_time: at(-HISTORY_AFTER_MS + 1000) })).flags.history, false);
  });

  it('dates a message without send_time at the pull', () => {
    const { send_time: _dropped, ...entry } = customerText('no-time', 'x');
    assert.equal(normalize(entry).message.createdAt, pulledAt.toISOString());
  });

  it('dates a message at the pull when send_time is beyond what a Date holds, instead of throwing (which failed the whole page, on every pull)', () => {
    for (const send_time of [1e300, '99999999999999999999']) {
      assert.equal(normalize(customerText('far', 'x', { send_time })).message.createdAt, pulledAt.toISOString());
    }
  });

  it('reads origin and send_time that are objects with a toString key as missing, not with a TypeError (which failed the page)', () => {
    const event = normalize(customerText('odd', 'x', { origin: { toString: '' }, send_time: { valueOf: 1 } }));
    assert.equal(event.message.createdAt, pulledAt.toISOString());
    assert.equal(event.sender.isSelf, false);
  });

  it('skips an entry without msgid (nothing to deduplicate on)', () => {
    const { msgid: _dropped, ...entry } = customerText('x', 'x');
    assert.equal(normalizeKfMessage(entry, { pulledAt }), null);
  });
});
