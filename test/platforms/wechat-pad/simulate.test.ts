import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { buildWechatPadSample } from '../../../src/platforms/wechat-pad/simulate.ts';
import { BOT, PATH_TOKEN, SECRET, adapterFor, channel, onlyEvent, request } from './helpers.ts';

const now = new Date('2026-11-23T09:00:00.000Z');

async function normalizeSample(config: ReturnType<typeof channel>, sample: ReturnType<typeof buildWechatPadSample>) {
  const pathToken = sample.path.split('/')[3];
  const req = request(sample.body, { headers: sample.headers, pathToken, receivedAt: now });
  return onlyEvent(await adapterFor(config).handleCallback(req));
}

describe('wechat-pad simulate', () => {
  it('signs a pad-format group sample that the adapter accepts, with an exact NewMsgId above 2^53', async () => {
    const config = channel({ auth: 'signature', secret: SECRET });
    const sample = buildWechatPadSample(config, { format: 'pad', group: true, text: 'ping', now });
    assert.equal(sample.path, '/hooks/wx-main');

    const timestamp = sample.headers['x-webhook-timestamp'] ?? '';
    assert.equal(timestamp, String(now.getTime() / 1000));
    const expected = createHmac('sha256', SECRET).update(`${timestamp}:${sample.body}`).digest('hex');
    assert.equal(sample.headers['x-webhook-signature'], expected);

    const idInBody = /"NewMsgId":(\d+)/.exec(sample.body)?.[1] ?? '';
    assert.ok(BigInt(idInBody) > 2n ** 53n, 'NewMsgId is an unquoted number above 2^53');

    const event = await normalizeSample(config, sample);
    assert.equal(event.dedupKey, idInBody);
    assert.equal(event.message.text, 'ping');
    assert.equal(event.conversation.type, 'group');
    assert.equal(event.message.mentionsBot, true);
    assert.ok(event.message.mentions.some((m) => m.id === BOT));
  });

  it('signs a flat direct sample in the concat format', async () => {
    const config = channel({ auth: 'signature', secret: SECRET, signatureFormat: 'concat' });
    const sample = buildWechatPadSample(config, { format: 'flat', now });
    const timestamp = sample.headers['x-webhook-timestamp'] ?? '';
    assert.equal(sample.headers['x-webhook-signature'], createHmac('sha256', SECRET).update(timestamp + sample.body).digest('hex'));
    const event = await normalizeSample(config, sample);
    assert.equal(event.conversation.type, 'direct');
    assert.equal(event.message.text, 'hello from imgate simulate');
  });

  it('puts the path token in the path for path-token channels', async () => {
    const config = channel({ auth: 'path-token', pathToken: PATH_TOKEN });
    const sample = buildWechatPadSample(config, { format: 'flat', group: true, now });
    assert.equal(sample.path, `/hooks/wx-main/${PATH_TOKEN}`);
    assert.equal(sample.headers['x-webhook-signature'], undefined);
    const event = await normalizeSample(config, sample);
    assert.equal(event.sender.id, 'wxid_imgate_sample_sender');
  });

  it('draws a fresh NewMsgId for every sample', () => {
    const config = channel();
    const ids = new Set(Array.from({ length: 20 }, () => /"NewMsgId":(\d+)/.exec(buildWechatPadSample(config, { format: 'pad' }).body)?.[1]));
    assert.equal(ids.size, 20);
  });
});
