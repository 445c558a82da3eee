import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AESCipher } from '@larksuiteoapi/node-sdk';
import { buildFeishuSample, createFeishuAdapter } from '../../../src/platforms/feishu/index.ts';
import { FEISHU_SAMPLE_CHAT, FEISHU_SAMPLE_USER } from '../../../src/platforms/feishu/simulate.ts';
import { testAdapterDeps } from '../../helpers/adapter-deps.ts';
import { FEISHU_KEYS, feishuChannel, feishuRequest, signatureHeadersFor } from './helpers.ts';

const now = new Date('2026-11-23T09:00:00.000Z');
const securedChannel = () => feishuChannel({ id: 'feishu-main', encryptKey: FEISHU_KEYS.encryptKey, verificationToken: FEISHU_KEYS.verificationToken });

describe('feishu simulate', () => {
  it('builds an encrypted, signed POST to the channel hook when the channel has an Encrypt Key', () => {
    const sample = buildFeishuSample(securedChannel(), { text: 'ping', now });
    assert.equal(sample.path, '/hooks/feishu-main');
    assert.equal(sample.method, 'POST');
    assert.equal(sample.headers['x-lark-request-timestamp'], String(now.getTime() / 1000));
    const expected = signatureHeadersFor(sample.body, FEISHU_KEYS.encryptKey, sample.headers['x-lark-request-timestamp'], sample.headers['x-lark-request-nonce']);
    assert.equal(sample.headers['x-lark-signature'], expected['x-lark-signature']);
    const event = JSON.parse(new AESCipher(FEISHU_KEYS.encryptKey).decrypt(JSON.parse(sample.body).encrypt));
    assert.equal(event.schema, '2.0');
    assert.equal(event.header.event_type, 'im.message.receive_v1');
    assert.equal(event.header.token, FEISHU_KEYS.verificationToken);
    assert.equal(event.header.app_id, FEISHU_KEYS.appId);
    assert.equal(event.header.create_time, String(now.getTime()));
    assert.match(event.event.message.message_id, /^om_[0-9a-f]{32}$/);
    assert.equal(event.event.message.content, JSON.stringify({ text: 'ping' }));
  });

  it('builds a plain JSON POST when the channel has no Encrypt Key', () => {
    const sample = buildFeishuSample(feishuChannel({ verificationToken: FEISHU_KEYS.verificationToken }), { now });
    assert.deepEqual(sample.headers, { 'content-type': 'application/json' });
    const event = JSON.parse(sample.body);
    assert.equal(event.header.token, FEISHU_KEYS.verificationToken);
    assert.equal(JSON.parse(event.event.message.content).text, 'hello from imgate simulate');
  });

  it('is taken by the adapter as a p2p text message, a new event each time', async () => {
    const config = securedChannel();
    const adapter = createFeishuAdapter(config, testAdapterDeps());
    const first = buildFeishuSample(config, { text: 'hi "there" \\ 你好' });
    const outcome = await adapter.handleCallback(feishuRequest({ body: first.body, headers: first.headers }));
    assert.equal(outcome.kind, 'events');
    if (outcome.kind !== 'events') return;
    const [event] = outcome.events;
    assert.equal(event!.message.text, 'hi "there" \\ 你好');
    assert.deepEqual(event!.sender, { id: FEISHU_SAMPLE_USER, name: null, isSelf: false });
    assert.deepEqual(event!.conversation, { id: FEISHU_SAMPLE_CHAT, type: 'direct', name: null });
    const second = await adapter.handleCallback(feishuRequest(buildFeishuSample(config)));
    assert.notEqual(second.kind === 'events' && second.events[0]!.dedupKey, event!.dedupKey);
  });
});
