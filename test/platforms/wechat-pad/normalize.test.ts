import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BOT, ROOM, adapterFor, channel, fixture, normalizeFixture, onlyEvent, request, RECEIVED_AT } from './helpers.ts';

describe('wechat-pad normalization', () => {
  it('turns a flat private text into a direct message from the other party', async () => {
    const event = await normalizeFixture('flat-private-text');
    assert.equal(event.dedupKey, '7654321098765432123');
    assert.equal(event.type, 'message');
    assert.deepEqual(event.message, {
      platformId: '7654321098765432123',
      type: 'text',
      text: '你好，这是一条测试消息',
      createdAt: new Date(1764000000 * 1000).toISOString(),
      mentions: [],
      mentionsBot: false,
      replyTo: null,
      content: {},
    });
    assert.deepEqual(event.sender, { id: 'wxid_alice001', name: null, isSelf: false });
    assert.deepEqual(event.conversation, { id: 'wxid_alice001', type: 'direct', name: null });
    assert.deepEqual(event.flags, { history: false });
    assert.equal((event.raw as { msgId: string }).msgId, '7654321098765432123');
  });

  it('takes the group sender from the content prefix of a flat group text and keeps isHistory', async () => {
    const event = await normalizeFixture('flat-group-text');
    assert.deepEqual(event.conversation, { id: ROOM, type: 'group', name: null });
    assert.deepEqual(event.sender, { id: 'wxid_alice001', name: null, isSelf: false });
    assert.equal(event.message.text, 'what is the weather?');
    assert.equal(event.flags.history, true);
  });

  it('reads mentions from the atuserlist of a raw pad group text and keeps its NewMsgId exact', async () => {
    const event = await normalizeFixture('pad-group-text-mention');
    assert.equal(event.dedupKey, '9223372036854775701');
    assert.equal(event.message.platformId, '9223372036854775701');
    assert.deepEqual(event.message.mentions, [
      { id: BOT, name: null },
      { id: 'wxid_carol003', name: null },
    ]);
    assert.equal(event.message.mentionsBot, true);
    assert.equal(event.message.text, 'please summarise');
    assert.deepEqual(event.sender, { id: 'wxid_alice001', name: 'Alice', isSelf: false });
    assert.deepEqual(event.conversation, { id: ROOM, type: 'group', name: null });
    assert.equal((event.raw as { NewMsgId: unknown }).NewMsgId, '9223372036854775701');
  });

  it('notices a mention of the bot from PushContent alone when no botWxid is known', async () => {
    const event = await normalizeFixture('pad-group-text-mention', { botWxid: undefined });
    assert.equal(event.message.mentionsBot, true);
  });

  it('treats notify@all as a mention of the bot', async () => {
    const body = fixture('pad-group-text-mention')
      .toString('utf8')
      .replace(',wxid_bot123,wxid_carol003', 'notify@all')
      .replace('Alice在群聊中@了你', 'Alice : @所有人 please summarise');
    const event = onlyEvent(await adapterFor(channel()).handleCallback(request(body)));
    assert.deepEqual(event.message.mentions, [{ id: 'notify@all', name: null }]);
    assert.equal(event.message.mentionsBot, true);
  });

  it('unwraps a gewechat AddMsg envelope and names the sender from PushContent', async () => {
    const event = await normalizeFixture('wrapped-addmsg');
    assert.equal(event.dedupKey, '3768973957878705021');
    assert.equal(event.message.text, 'hi bot');
    assert.deepEqual(event.sender, { id: 'wxid_alice001', name: 'Alice', isSelf: false });
    assert.deepEqual(event.conversation, { id: 'wxid_alice001', type: 'direct', name: null });
    assert.equal(event.message.createdAt, new Date(1764000300 * 1000).toISOString());
    assert.equal((event.raw as { TypeName: string }).TypeName, 'AddMsg');
  });

  it('unwraps the lower-case envelope of newer gewechat builds', async () => {
    const event = await normalizeFixture('wrapped-lowercase');
    assert.equal(event.dedupKey, '5768973957878705022');
    assert.equal(event.message.text, 'from a newer gewechat');
    assert.deepEqual(event.sender, { id: 'wxid_dave004', name: 'Dave', isSelf: false });
  });

  it('keeps the XML of an image and leaves its text null', async () => {
    const event = await normalizeFixture('image');
    assert.equal(event.message.type, 'image');
    assert.equal(event.message.text, null);
    assert.match(String(event.message.content.xml), /<img aeskey="0123456789abcdef"/);
  });

  it('extracts title, description and url of a link appmsg sent in a group', async () => {
    const event = await normalizeFixture('link-appmsg');
    assert.equal(event.message.type, 'link');
    assert.equal(event.sender.id, 'wxid_alice001');
    assert.equal(event.message.content.title, 'imgate & friends');
    assert.equal(event.message.content.description, 'A gateway for chat platforms');
    assert.equal(event.message.content.url, 'https://example.com/post?a=1&b=2');
    assert.equal(event.message.content.appType, '5');
    assert.match(String(event.message.content.xml), /^<\?xml/);
  });

  it('calls an appmsg of type 6 a file', async () => {
    const body = fixture('link-appmsg').toString('utf8').replace('<type>5</type>', '<type>6</type><appattach><totallen>2048</totallen><fileext>pdf</fileext></appattach>');
    const event = onlyEvent(await adapterFor(channel()).handleCallback(request(body)));
    assert.equal(event.message.type, 'file');
    assert.equal(event.message.content.fileExt, 'pdf');
    assert.equal(event.message.content.size, 2048);
  });

  it('turns a revokemsg 10002 into message.recalled naming the recalled NewMsgId exactly', async () => {
    const event = await normalizeFixture('recall-10002');
    assert.equal(event.type, 'message.recalled');
    assert.equal(event.message.type, 'system');
    assert.equal(event.message.content.recalledPlatformId, '9223372036854775701');
    assert.equal(event.sender.id, 'wxid_alice001');
    assert.equal(event.conversation.id, ROOM);
  });

  it('keeps other 10002 sysmsgs as system events', async () => {
    const body = fixture('recall-10002').toString('utf8').replace('type=\\"revokemsg\\"', 'type=\\"pat\\"');
    const event = onlyEvent(await adapterFor(channel()).handleCallback(request(body)));
    assert.equal(event.type, 'system');
    assert.equal(event.message.content.sysmsgType, 'pat');
  });

  it('turns a 10000 notice into a system event of the group', async () => {
    const event = await normalizeFixture('system-10000');
    assert.equal(event.type, 'system');
    assert.equal(event.message.type, 'system');
    assert.equal(event.message.content.notice, '"Alice"邀请"Eve"加入了群聊');
    assert.deepEqual(event.conversation, { id: ROOM, type: 'group', name: null });
  });

  it('marks the bot sending to a group as self, in that group', async () => {
    const event = await normalizeFixture('self-to-group', { botWxid: undefined });
    assert.deepEqual(event.conversation, { id: ROOM, type: 'group', name: null });
    assert.deepEqual(event.sender, { id: BOT, name: null, isSelf: true });
    assert.equal(event.message.text, 'sent from my phone');
  });

  it('addresses a direct message the bot sent to the other party', async () => {
    const body = fixture('wrapped-addmsg')
      .toString('utf8')
      .replace('"FromUserName": { "string": "wxid_alice001" }', '"FromUserName": { "string": "wxid_bot123" }')
      .replace('"ToUserName": { "string": "wxid_bot123" }', '"ToUserName": { "string": "wxid_alice001" }');
    const event = onlyEvent(await adapterFor(channel()).handleCallback(request(body)));
    assert.equal(event.sender.isSelf, true);
    assert.equal(event.conversation.id, 'wxid_alice001');
  });

  it('turns a 37 into friend.request from the requester', async () => {
    const xml = '<msg fromusername="wxid_frank006" encryptusername="v3_abc@stranger" fromnickname="Frank" content="I am Frank" ticket="v4_xyz@stranger" scene="30" />';
    const body = JSON.stringify({ MsgId: 11, NewMsgId: 12, FromUserName: { string: 'fmessage' }, ToUserName: { string: BOT }, MsgType: 37, Content: { string: xml }, CreateTime: 1764001000 });
    const event = onlyEvent(await adapterFor(channel()).handleCallback(request(body)));
    assert.equal(event.type, 'friend.request');
    assert.deepEqual(event.sender, { id: 'wxid_frank006', name: 'Frank', isSelf: false });
    assert.equal(event.conversation.id, 'wxid_frank006');
    assert.equal(event.message.content.greeting, 'I am Frank');
    assert.equal(event.message.content.ticket, 'v4_xyz@stranger');
  });

  it('calls an unknown message type unknown and falls back to receivedAt without CreateTime', async () => {
    const body = JSON.stringify({ NewMsgId: 99, FromUserName: { string: 'wxid_alice001' }, MsgType: 51, Content: { string: '<msg/>' } });
    const event = onlyEvent(await adapterFor(channel()).handleCallback(request(body)));
    assert.equal(event.type, 'message');
    assert.equal(event.message.type, 'unknown');
    assert.equal(event.message.createdAt, RECEIVED_AT.toISOString());
  });

  it('dedups on MsgId when NewMsgId is absent', async () => {
    const body = JSON.stringify({ MsgId: 1234, FromUserName: { string: 'wxid_alice001' }, MsgType: 1, Content: { string: 'x' } });
    const event = onlyEvent(await adapterFor(channel()).handleCallback(request(body)));
    assert.equal(event.dedupKey, '1234');
  });
});
