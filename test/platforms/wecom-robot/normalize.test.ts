import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stripLeadingMention } from '../../../src/platforms/wecom-robot/normalize.ts';
import { CHAT_ID, RECEIVED_AT, REPLY_KEY, normalizeXml, robotXml } from './helpers.ts';

describe('normalizing robot callbacks', () => {
  it('turns a group text into a message in the group, without the @robot prefix, mentioning the bot', () => {
    const event = normalizeXml(robotXml());
    assert.equal(event.dedupKey, 'abcdabcdabcd');
    assert.equal(event.type, 'message');
    assert.equal(event.message.platformId, 'abcdabcdabcd');
    assert.equal(event.message.type, 'text');
    assert.equal(event.message.text, 'hello robot');
    assert.equal(event.message.mentionsBot, true);
    assert.deepEqual(event.message.mentions, []);
    assert.equal(event.message.createdAt, RECEIVED_AT.toISOString());
    assert.deepEqual(event.sender, { id: 'zhangsan', name: '张三', isSelf: false });
    assert.deepEqual(event.conversation, { id: CHAT_ID, type: 'group', name: null });
    assert.deepEqual(event.flags, { history: false });
  });

  it('keeps chat type and alias in content, and the WebhookUrl (it holds a key) only in raw', () => {
    const event = normalizeXml(robotXml());
    assert.deepEqual(event.message.content, { chatType: 'group', senderAlias: 'jackzhang' });
    assert.equal((event.raw as { WebhookUrl?: string }).WebhookUrl, `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${REPLY_KEY}`);
  });

  it('keeps the decrypted payload as raw and the request shape for raw subscribers', () => {
    const event = normalizeXml(robotXml());
    const raw = event.raw as Record<string, any>;
    assert.equal(raw.MsgType, 'text');
    assert.equal(raw.From.UserId, 'zhangsan');
    assert.equal(raw.GetChatInfoUrl, 'https://qyapi.weixin.qq.com/cgi-bin/webhook/get_chat_info?code=CODE');
    assert.deepEqual(event.rawRequest, { contentType: 'text/xml', query: '' });
  });

  it('treats a single chat as a direct conversation and leaves its text alone', () => {
    const event = normalizeXml(
      robotXml({ chatType: 'single', chatId: 'wokSingleChat01', body: '<Text><Content><![CDATA[@home is where I am]]></Content></Text>' }),
    );
    assert.deepEqual(event.conversation, { id: 'wokSingleChat01', type: 'direct', name: null });
    assert.equal(event.message.text, '@home is where I am');
    assert.equal(event.message.mentionsBot, false);
  });

  it('uses the sender as the conversation of a single chat without ChatId', () => {
    const event = normalizeXml(robotXml({ chatType: 'single', chatId: null }));
    assert.equal(event.conversation.id, 'zhangsan');
  });

  it('counts a blackboard post as a group conversation', () => {
    const event = normalizeXml(robotXml({ chatType: 'blackboard' }));
    assert.equal(event.conversation.type, 'group');
    assert.equal(event.message.content.chatType, 'blackboard');
  });

  it('reads an image message', () => {
    const event = normalizeXml(
      robotXml({ chatType: 'single', msgType: 'image', body: '<Image><ImageUrl><![CDATA[https://p.qpic.cn/pic_wework/1/0]]></ImageUrl></Image>' }),
    );
    assert.equal(event.message.type, 'image');
    assert.equal(event.message.text, null);
    assert.equal(event.message.content.imageUrl, 'https://p.qpic.cn/pic_wework/1/0');
  });

  it('reads a mixed message: its text without the mention, and every item in order', () => {
    const event = normalizeXml(
      robotXml({
        msgType: 'mixed',
        body: [
          '<MixedMessage>',
          '<MsgItem><MsgType>text</MsgType><Text><Content><![CDATA[@机器人 这是今日的测试情况]]></Content></Text></MsgItem>',
          '<MsgItem><MsgType>image</MsgType><Image><ImageUrl><![CDATA[http://p.qpic.cn/pic_wework/2/0]]></ImageUrl></Image></MsgItem>',
          '</MixedMessage>',
        ].join(''),
      }),
    );
    assert.equal(event.message.type, 'text');
    assert.equal(event.message.text, '这是今日的测试情况');
    assert.deepEqual(event.message.content.items, [
      { type: 'text', text: '@机器人 这是今日的测试情况' },
      { type: 'image', url: 'http://p.qpic.cn/pic_wework/2/0' },
    ]);
  });

  it('reads a mixed message of one image as an image', () => {
    const event = normalizeXml(
      robotXml({
        msgType: 'mixed',
        body: '<MixedMessage><MsgItem><MsgType>image</MsgType><Image><ImageUrl>http://p.qpic.cn/3/0</ImageUrl></Image></MsgItem></MixedMessage>',
      }),
    );
    assert.equal(event.message.type, 'image');
    assert.equal(event.message.text, null);
  });

  it('turns add_to_chat into a system event that does not mention the bot', () => {
    const event = normalizeXml(robotXml({ msgType: 'event', body: '<Event><EventType><![CDATA[add_to_chat]]></EventType></Event>' }));
    assert.equal(event.type, 'system');
    assert.equal(event.message.type, 'system');
    assert.equal(event.message.content.event, 'add_to_chat');
    assert.equal(event.message.mentionsBot, false);
  });

  it('turns a button click (attachment) into a system event with its callback id and actions', () => {
    const event = normalizeXml(
      robotXml({
        msgType: 'attachment',
        body: '<Attachment><CallbackId><![CDATA[btn_for_show_more]]></CallbackId><Actions><Name><![CDATA[btn_more]]></Name><Value><![CDATA[more]]></Value><Type><![CDATA[button]]></Type></Actions></Attachment>',
      }),
    );
    assert.equal(event.type, 'system');
    assert.equal(event.message.content.event, 'attachment');
    assert.equal(event.message.content.callbackId, 'btn_for_show_more');
    assert.deepEqual(event.message.content.actions, [{ name: 'btn_more', value: 'more', type: 'button' }]);
  });

  it('stores a message type it does not know as unknown, naming the type', () => {
    const event = normalizeXml(robotXml({ msgType: 'command', body: '<Command><Name>/todo</Name></Command>' }));
    assert.equal(event.type, 'message');
    assert.equal(event.message.type, 'unknown');
    assert.equal(event.message.content.msgType, 'command');
  });

  it('refuses a callback without MsgId, which it could not deduplicate', () => {
    assert.throws(() => normalizeXml(robotXml({ msgId: null })), { code: 'IMG_ERR_INBOUND_UNSUPPORTED' });
  });

  it('refuses a group callback without ChatId', () => {
    assert.throws(() => normalizeXml(robotXml({ chatId: null })), { code: 'IMG_ERR_INBOUND_UNSUPPORTED' });
  });

  it('strips only a leading @word and the space after it', () => {
    assert.equal(stripLeadingMention('@RobotA hello robot'), 'hello robot');
    assert.equal(stripLeadingMention('@RobotA\u2005hello'), 'hello');
    assert.equal(stripLeadingMention('@RobotA'), '');
    assert.equal(stripLeadingMention('  @RobotA  spaced  '), 'spaced');
    assert.equal(stripLeadingMention('hello @RobotA'), 'hello @RobotA');
    assert.equal(stripLeadingMention('mail me at a@b.c'), 'mail me at a@b.c');
  });
});
