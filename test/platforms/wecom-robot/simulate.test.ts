import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as official from '@wecom/crypto';
import { buildWecomRobotSample } from '../../../src/platforms/wecom-robot/index.ts';
import { WECOM_KEYS } from '../../helpers/wecom.ts';
import { adapterFor, channel, onlyEvent, request, WEBHOOK_KEY } from './helpers.ts';

describe('buildWecomRobotSample', () => {
  it('builds a callback the official @wecom/crypto verifies and decrypts, with an empty receiveid', () => {
    const sample = buildWecomRobotSample(channel(), { text: 'ping' });
    const url = new URL(sample.path, 'http://imgate');
    assert.equal(url.pathname, '/hooks/robot');
    assert.equal(sample.method, 'POST');
    const encrypt = /<Encrypt><!\[CDATA\[(.+)\]\]><\/Encrypt>/.exec(sample.body)?.[1];
    assert.ok(encrypt);
    const query = url.searchParams;
    assert.equal(query.get('msg_signature'), official.getSignature(WECOM_KEYS.token, query.get('timestamp')!, query.get('nonce')!, encrypt));
    const { message, id } = official.decrypt(WECOM_KEYS.encodingAESKey, encrypt);
    assert.equal(id, '');
    assert.match(message, /<Content><!\[CDATA\[@imgate ping\]\]><\/Content>/);
  });

  it("is taken by the channel's adapter as a group message that mentions the bot", async () => {
    const config = channel({ apiBase: 'http://127.0.0.1:1' });
    const sample = buildWecomRobotSample(config, { text: 'ping', now: new Date() });
    const query = sample.path.slice(sample.path.indexOf('?') + 1);
    const event = onlyEvent(await adapterFor(config).handleCallback(request({ query, body: sample.body }, { headers: sample.headers })));
    assert.equal(event.message.text, 'ping');
    assert.equal(event.message.mentionsBot, true);
    assert.equal(event.conversation.type, 'group');
    assert.equal((event.raw as { WebhookUrl?: string }).WebhookUrl, `http://127.0.0.1:1/cgi-bin/webhook/send?key=${WEBHOOK_KEY}`);
  });

  it('keeps text with "]]>" whole', async () => {
    const config = channel();
    const sample = buildWecomRobotSample(config, { text: 'a]]>b' });
    const query = sample.path.slice(sample.path.indexOf('?') + 1);
    const event = onlyEvent(await adapterFor(config).handleCallback(request({ query, body: sample.body })));
    assert.equal(event.message.text, 'a]]>b');
  });

  it('refuses a channel that takes no callbacks', () => {
    assert.throws(() => buildWecomRobotSample(channel({ token: undefined, encodingAESKey: undefined })), /no token and encodingAESKey/);
  });
});
