import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ImgateError } from '../../../src/core/errors.ts';
import { wechatPad } from '../../../src/platforms/wechat-pad/index.ts';
import { adapterFor, channel, fixture, onlyEvent, request, type CapturedLogs } from './helpers.ts';

async function rejectsWith(promise: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  await assert.rejects(
    async () => (typeof promise === 'function' ? promise() : promise),
    (error: unknown) => error instanceof ImgateError && error.code === code,
  );
}

describe('wechat-pad callbacks', () => {
  it('acknowledges a stored message with 200 {ok:true}', async () => {
    const outcome = await adapterFor(channel()).handleCallback(request(fixture('flat-private-text')));
    assert.equal(outcome.kind, 'events');
    assert.deepEqual(outcome.kind === 'events' && outcome.ack, { status: 200, contentType: 'application/json', body: { ok: true } });
  });

  it('refuses GET with IMG_ERR_INBOUND_METHOD', async () => {
    const adapter = adapterFor(channel());
    await rejectsWith(() => adapter.handleCallback(request('', { method: 'GET' })), 'IMG_ERR_INBOUND_METHOD');
  });

  it('answers a non-AddMsg envelope with 200, stores nothing and logs its TypeName without secrets', async () => {
    const logs: CapturedLogs = { lines: [] };
    const adapter = adapterFor(channel({ secret: 'never-logged-secret' }), logs);
    const outcome = await adapter.handleCallback(request(fixture('wrapped-modcontacts')));
    assert.equal(outcome.kind, 'reply');
    assert.deepEqual(outcome.kind === 'reply' && outcome.reply.body, { ok: true });
    assert.equal(logs.lines.length, 1);
    assert.equal(logs.lines[0]?.typeName, 'ModContacts');
    assert.equal(logs.lines[0]?.channel, 'wx-main');
    assert.doesNotMatch(JSON.stringify(logs.lines), /never-logged-secret/);
  });

  it('rejects malformed JSON with IMG_ERR_INBOUND_MALFORMED and does not echo the body', async () => {
    const adapter = adapterFor(channel());
    await assert.rejects(
      async () => adapter.handleCallback(request('{"msgId": "1", "content": "private words"')),
      (error: unknown) =>
        error instanceof ImgateError && error.code === 'IMG_ERR_INBOUND_MALFORMED' && !error.message.includes('private words'),
    );
  });

  it('rejects JSON of another shape with IMG_ERR_INBOUND_UNSUPPORTED', async () => {
    const adapter = adapterFor(channel());
    await rejectsWith(() => adapter.handleCallback(request('{"hello":"world"}')), 'IMG_ERR_INBOUND_UNSUPPORTED');
    await rejectsWith(() => adapter.handleCallback(request('[1,2,3]')), 'IMG_ERR_INBOUND_UNSUPPORTED');
    await rejectsWith(() => adapter.handleCallback(request('{"TypeName":"AddMsg","Data":{"x":1}}')), 'IMG_ERR_INBOUND_UNSUPPORTED');
  });

  it('takes message types, contents and sizes that are objects with a toString key without a TypeError (a 500)', async () => {
    // Found by test/properties/wechat-pad-callback.test.ts: Number() and String() throw on `{"toString": ""}`.
    const adapter = adapterFor(channel());
    const pad = { MsgId: 7, FromUserName: { string: 'wxid_a' }, ToUserName: { string: 'wxid_bot123' }, MsgType: { toString: '' }, Content: { string: 'x' } };
    assert.equal(onlyEvent(await adapter.handleCallback(request(JSON.stringify(pad)))).message.type, 'unknown');
    const flat = { msgId: '8', fromUser: 'wxid_a', toUser: 'wxid_bot123', msgType: 1, content: [{ toString: 1 }] };
    assert.equal(onlyEvent(await adapter.handleCallback(request(JSON.stringify(flat)))).message.text, '[{"toString":1}]');
    const file = '<msg><appmsg><type>6</type><title>a.pdf</title><appattach><totallen><toString>1</toString></totallen></appattach></appmsg></msg>';
    const withFile = { ...pad, MsgId: 9, MsgType: 49, Content: { string: file } };
    assert.equal(onlyEvent(await adapter.handleCallback(request(JSON.stringify(withFile)))).message.content.size, null);
  });

  it('rejects a message without any id with IMG_ERR_INBOUND_UNSUPPORTED', async () => {
    const body = JSON.stringify({ FromUserName: { string: 'wxid_a' }, MsgType: 1, Content: { string: 'x' } });
    await rejectsWith(() => adapterFor(channel()).handleCallback(request(body)), 'IMG_ERR_INBOUND_UNSUPPORTED');
  });

  it('refuses a DOCTYPE in MsgSource with IMG_ERR_INBOUND_MALFORMED', async () => {
    const body = fixture('pad-group-text-mention')
      .toString('utf8')
      .replace('"<msgsource>', '"<!DOCTYPE msgsource [<!ENTITY xxe SYSTEM \\"file:///etc/passwd\\">]><msgsource>');
    await rejectsWith(() => adapterFor(channel()).handleCallback(request(body)), 'IMG_ERR_INBOUND_MALFORMED');
  });

  it('refuses an ENTITY declaration inside appmsg XML', async () => {
    const body = fixture('link-appmsg').toString('utf8').replace('<?xml version=\\"1.0\\"?>', '<!ENTITY boom \\"boom\\">');
    await rejectsWith(() => adapterFor(channel()).handleCallback(request(body)), 'IMG_ERR_INBOUND_MALFORMED');
  });

  it('stores a message whose embedded XML is merely broken, with the raw text kept', async () => {
    const body = fixture('link-appmsg').toString('utf8').replace('</appmsg>', '');
    const event = onlyEvent(await adapterFor(channel()).handleCallback(request(body)));
    assert.equal(event.message.type, 'link');
    assert.equal(event.message.content.title, null);
    assert.match(String(event.message.content.xml), /<appmsg/);
  });

  it('keeps a NewMsgId above 2^53 exact in dedupKey, platformId and raw', async () => {
    const id = '9007199254740993'; // 2^53 + 1: JSON.parse would make it ...992
    const body = `{"NewMsgId": ${id}, "MsgId": 5, "FromUserName": {"string": "wxid_a"}, "MsgType": 1, "Content": {"string": "x"}}`;
    const event = onlyEvent(await adapterFor(channel()).handleCallback(request(body)));
    assert.equal(event.dedupKey, id);
    assert.equal(event.message.platformId, id);
    assert.equal((event.raw as { NewMsgId: unknown }).NewMsgId, id);
    assert.equal((event.raw as { MsgId: unknown }).MsgId, 5);
  });

  it('warns at start only when auth is none, naming the channel', () => {
    const warnings = wechatPad.startupWarnings?.(channel({ auth: 'none' })) ?? [];
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /"wx-main"/);
    assert.deepEqual(wechatPad.startupWarnings?.(channel({ auth: 'signature', secret: 's' })), []);
  });
});
