import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { buildQqSample } from '../../../src/platforms/qq/index.ts';
import { QQ_SAMPLE_GROUP, QQ_SAMPLE_USER } from '../../../src/platforms/qq/simulate.ts';
import { APP_ID, SECRET, adapterFor, channel, independentKey, onlyEvent, request } from './helpers.ts';

describe('buildQqSample', () => {
  it('signs timestamp ‖ body with the bot key as QQ does (checked with an independently derived key)', () => {
    const now = new Date('2026-11-23T09:00:00.000Z');
    const sample = buildQqSample(channel(), { text: 'ping', now });
    assert.equal(sample.path, '/hooks/qq');
    assert.equal(sample.method, 'POST');
    assert.equal(sample.headers['x-signature-timestamp'], String(now.getTime() / 1000));
    assert.equal(sample.headers['x-bot-appid'], APP_ID);
    const signed = Buffer.from(`${sample.headers['x-signature-timestamp']}${sample.body}`, 'utf8');
    const publicKey = createPublicKey(independentKey(SECRET));
    assert.equal(verify(null, signed, publicKey, Buffer.from(sample.headers['x-signature-ed25519'] as string, 'hex')), true);
    const body = JSON.parse(sample.body);
    assert.equal(body.op, 0);
    assert.equal(body.t, 'C2C_MESSAGE_CREATE');
    assert.equal(body.d.content, 'ping');
    assert.equal(body.d.timestamp, now.toISOString());
  });

  it('is taken by the adapter as a C2C message, each sample with its own message id', async () => {
    const config = channel();
    const first = buildQqSample(config);
    const second = buildQqSample(config);
    const event = onlyEvent(await adapterFor(config).handleCallback(request(first.body, { headers: first.headers })));
    assert.equal(event.message.text, 'hello from imgate simulate');
    assert.deepEqual(event.conversation, { id: `user:${QQ_SAMPLE_USER}`, type: 'direct', name: null });
    assert.notEqual(JSON.parse(first.body).d.id, JSON.parse(second.body).d.id);
  });

  it('builds a GROUP_AT_MESSAGE_CREATE with `group`, the @ removed as QQ does', async () => {
    const config = channel();
    const sample = buildQqSample(config, { text: 'hi all', group: true });
    assert.equal(JSON.parse(sample.body).d.content, ' hi all');
    const event = onlyEvent(await adapterFor(config).handleCallback(request(sample.body, { headers: sample.headers })));
    assert.equal(event.message.text, 'hi all');
    assert.equal(event.message.mentionsBot, true);
    assert.deepEqual(event.conversation, { id: `group:${QQ_SAMPLE_GROUP}`, type: 'group', name: null });
  });
});
