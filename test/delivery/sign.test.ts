import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { signDelivery } from '../../src/delivery/sign.ts';

const body = Buffer.from('{"id":"evt_1","text":"你好"}');
const now = Math.floor(Date.now() / 1000);

describe('signDelivery', () => {
  it('signs standard deliveries that the standardwebhooks package verifies (whsec_ secret)', () => {
    const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    const headers = signDelivery({ signing: 'standard', secrets: [secret] }, { messageId: 'evt_1', timestamp: now, body });
    const verified = new Webhook(secret).verify(body.toString('utf8'), headers);
    assert.deepEqual(verified, JSON.parse(body.toString('utf8')));
  });

  it('signs standard deliveries with a plain secret as its UTF-8 bytes', () => {
    const headers = signDelivery({ signing: 'standard', secrets: ['plain-secret'] }, { messageId: 'evt_1', timestamp: now, body });
    const verified = new Webhook('plain-secret', { format: 'raw' }).verify(body.toString('utf8'), headers);
    assert.equal((verified as { id: string }).id, 'evt_1');
  });

  it('sends one v1 signature per secret during a rotation, each verifying on its own', () => {
    const oldSecret = `whsec_${Buffer.from('old-key-old-key-old-key-old-key!').toString('base64')}`;
    const newSecret = `whsec_${Buffer.from('new-key-new-key-new-key-new-key!').toString('base64')}`;
    const headers = signDelivery({ signing: 'standard', secrets: [newSecret, oldSecret] }, { messageId: 'evt_2', timestamp: now, body });
    assert.equal(headers['webhook-signature']!.split(' ').length, 2);
    for (const secret of [oldSecret, newSecret]) {
      assert.doesNotThrow(() => new Webhook(secret).verify(body.toString('utf8'), headers));
    }
  });

  it('rejects a tampered body under standardwebhooks', () => {
    const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    const headers = signDelivery({ signing: 'standard', secrets: [secret] }, { messageId: 'evt_1', timestamp: now, body });
    assert.throws(() => new Webhook(secret).verify(`${body.toString('utf8')} `, headers));
  });

  it('signs abot deliveries as sha256=<hex HMAC of the raw body>', () => {
    const headers = signDelivery({ signing: 'abot', secrets: ['abot-secret'] }, { messageId: 'evt_1', timestamp: now, body });
    const expected = createHmac('sha256', 'abot-secret').update(body).digest('hex');
    assert.deepEqual(headers, { 'x-wechat-abot-signature': `sha256=${expected}` });
  });

  it('signs padpro deliveries over timestamp:body', () => {
    const headers = signDelivery({ signing: 'padpro', secrets: ['pad-secret'] }, { messageId: 'evt_1', timestamp: 1625123456, body });
    const expected = createHmac('sha256', 'pad-secret').update(`1625123456:${body.toString('utf8')}`).digest('hex');
    assert.deepEqual(headers, { 'x-webhook-timestamp': '1625123456', 'x-webhook-signature': expected });
  });
});
