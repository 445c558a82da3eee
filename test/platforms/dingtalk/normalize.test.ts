import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeDingtalkMessage } from '../../../src/platforms/dingtalk/normalize.ts';
import { failsWith } from '../../helpers/errors.ts';
import { BOT_ID, GROUP_ID, SESSION, SINGLE_CHAT_ID, callbackBody } from './helpers.ts';

const RECEIVED_AT = new Date('2026-11-23T09:00:00.000Z');
const CREATE_AT = Date.parse('2026-11-23T08:59:58.123Z');
const normalize = (body: Record<string, unknown>) => normalizeDingtalkMessage(body, RECEIVED_AT);

/** A body of another msgtype: no `text`, the payload in `content`. */
function other(msgtype: string, content: unknown): Record<string, unknown> {
  const body = callbackBody({ group: false, createAt: CREATE_AT });
  delete body.text;
  return { ...body, msgtype, content };
}

describe('normalizeDingtalkMessage', () => {
  it('turns a single-chat text into a direct conversation with the sender, keyed by the staff id', () => {
    const event = normalize(callbackBody({ group: false, createAt: CREATE_AT }));
    assert.equal(event.dedupKey, 'msg0AbCdEfGhIjKl==');
    assert.equal(event.type, 'message');
    assert.deepEqual(event.message, {
      platformId: 'msg0AbCdEfGhIjKl==',
      type: 'text',
      text: 'hello robot',
      createdAt: '2026-11-23T08:59:58.123Z',
      mentions: [],
      mentionsBot: false,
      replyTo: null,
      content: { conversationId: SINGLE_CHAT_ID, senderDingtalkId: '$:LWCP_v1:$ZhangsanDingId' },
    });
    assert.deepEqual(event.sender, { id: 'zhangsan', name: '张三', isSelf: false });
    assert.deepEqual(event.conversation, { id: 'zhangsan', type: 'direct', name: null });
  });

  it('takes a group text that @-mentions the robot: leading space trimmed, other @users as mentions, the robot left out', () => {
    const event = normalize(callbackBody({ createAt: CREATE_AT }));
    assert.equal(event.message.text, 'what is the build status? @lisi');
    assert.deepEqual(event.message.mentions, [{ id: 'lisi', name: null }]);
    assert.equal(event.message.mentionsBot, true);
    assert.deepEqual(event.conversation, { id: GROUP_ID, type: 'group', name: '机器人测试-TEST' });
    assert.equal(event.sender.id, 'zhangsan');
  });

  it('names an @user without a staff id by their DingTalk id', () => {
    const event = normalize(callbackBody({ extra: { atUsers: [{ dingtalkId: '$:LWCP_v1:$Outsider' }, { dingtalkId: BOT_ID }] } }));
    assert.deepEqual(event.message.mentions, [{ id: '$:LWCP_v1:$Outsider', name: null }]);
  });

  it('sees the robot mentioned among atUsers even without isInAtList', () => {
    const event = normalize(callbackBody({ extra: { isInAtList: undefined } }));
    assert.equal(event.message.mentionsBot, true);
    const notMentioned = normalize(callbackBody({ extra: { isInAtList: false, atUsers: [] } }));
    assert.equal(notMentioned.message.mentionsBot, false);
  });

  it('keeps a single chat with someone outside the organization (no staff id) on its conversationId', () => {
    const event = normalize(callbackBody({ group: false, senderStaffId: null }));
    assert.deepEqual(event.sender, { id: '$:LWCP_v1:$ZhangsanDingId', name: '张三', isSelf: false });
    assert.deepEqual(event.conversation, { id: SINGLE_CHAT_ID, type: 'direct', name: null });
    assert.equal(event.message.content.senderDingtalkId, undefined);
  });

  it('keeps the sessionWebhook out of the event, and only in raw', () => {
    const body = callbackBody();
    const event = normalize(body);
    const { raw, ...rest } = event;
    assert.ok(!JSON.stringify(rest).includes(SESSION));
    assert.ok(!JSON.stringify(rest).includes('sendBySession'));
    assert.equal(raw, body);
  });

  it('uses the receive time when createAt is missing or not a number', () => {
    assert.equal(normalize(callbackBody({ extra: { createAt: 'soon' } })).message.createdAt, RECEIVED_AT.toISOString());
    assert.equal(normalize(callbackBody({ extra: { createAt: String(CREATE_AT) } })).message.createdAt, '2026-11-23T08:59:58.123Z');
  });

  it('uses the receive time when createAt is beyond what a Date holds, instead of throwing a RangeError (a 500)', () => {
    // Found by test/properties/dingtalk-callback.test.ts: the sign does not cover the body.
    for (const createAt of [1e300, 8.64e15 + 1, '99999999999999999999']) {
      assert.equal(normalize(callbackBody({ extra: { createAt } })).message.createdAt, RECEIVED_AT.toISOString());
    }
  });

  it('maps a picture to an image with its download codes', () => {
    const event = normalize(other('picture', { downloadCode: 'dl-pic', pictureDownloadCode: 'dl-pic-2' }));
    assert.equal(event.message.type, 'image');
    assert.equal(event.message.text, null);
    assert.deepEqual(event.message.content, {
      downloadCode: 'dl-pic',
      pictureDownloadCode: 'dl-pic-2',
      conversationId: SINGLE_CHAT_ID,
      senderDingtalkId: '$:LWCP_v1:$ZhangsanDingId',
    });
  });

  it('maps richText to text joined by newlines, with its items in order', () => {
    const event = normalize(other('richText', { richText: [{ text: ' look at this ' }, { type: 'picture', downloadCode: 'dl-1' }, { text: 'and this' }] }));
    assert.equal(event.message.type, 'text');
    assert.equal(event.message.text, 'look at this\nand this');
    assert.deepEqual(event.message.content.items, [
      { type: 'text', text: ' look at this ' },
      { type: 'image', downloadCode: 'dl-1', pictureDownloadCode: null },
      { type: 'text', text: 'and this' },
    ]);
  });

  it('maps a richText of pictures only to an image', () => {
    const event = normalize(other('richText', { richText: [{ type: 'picture', downloadCode: 'dl-1' }] }));
    assert.equal(event.message.type, 'image');
    assert.equal(event.message.text, null);
  });

  it('maps audio to voice, keeping the transcript in content', () => {
    const event = normalize(other('audio', { duration: '4000', downloadCode: 'dl-a', recognition: '你好' }));
    assert.equal(event.message.type, 'voice');
    assert.equal(event.message.text, null);
    assert.equal(event.message.content.recognition, '你好');
    assert.equal(event.message.content.duration, 4000);
  });

  it('maps video and file', () => {
    const video = normalize(other('video', { duration: 12, downloadCode: 'dl-v', videoType: 'mp4' }));
    assert.equal(video.message.type, 'video');
    assert.equal(video.message.content.videoType, 'mp4');
    const file = normalize(other('file', { downloadCode: 'dl-f', fileName: 'report.pdf', spaceId: '123', fileId: '456' }));
    assert.equal(file.message.type, 'file');
    assert.equal(file.message.content.fileName, 'report.pdf');
    assert.equal(file.message.content.downloadCode, 'dl-f');
  });

  it('keeps an unknown msgtype as unknown, naming it', () => {
    const event = normalize(other('interactiveCard', { cardData: {} }));
    assert.equal(event.message.type, 'unknown');
    assert.equal(event.message.content.msgType, 'interactiveCard');
  });

  it('refuses a body without msgId or conversationId', () => {
    assert.throws(() => normalize(callbackBody({ extra: { msgId: undefined } })), failsWith('IMG_ERR_INBOUND_UNSUPPORTED'));
    assert.throws(() => normalize(callbackBody({ extra: { conversationId: '' } })), failsWith('IMG_ERR_INBOUND_UNSUPPORTED'));
  });
});
