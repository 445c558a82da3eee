import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDingtalkSample } from '../../../src/platforms/dingtalk/index.ts';
import { APP_KEY, APP_SECRET, adapterFor, channel, independentSign, onlyEvent, request } from './helpers.ts';

describe('buildDingtalkSample', () => {
  it('signs the sample with the appSecret as DingTalk does (checked with node:crypto)', () => {
    const now = new Date('2026-11-23T09:00:00.000Z');
    const sample = buildDingtalkSample(channel(), { text: 'ping', group: true, now });
    assert.equal(sample.path, '/hooks/ding');
    assert.equal(sample.method, 'POST');
    assert.equal(sample.headers.timestamp, String(now.getTime()));
    assert.equal(sample.headers.sign, independentSign(String(now.getTime()), APP_SECRET));
    const body = JSON.parse(sample.body);
    assert.equal(body.text.content, ' ping');
    assert.equal(body.robotCode, APP_KEY);
    assert.equal(body.sessionWebhookExpiredTime, now.getTime() + 5_400_000);
  });

  it('is taken by the channel\'s adapter as a group message that mentions the robot, replying through apiBase', async () => {
    const config = channel({ apiBase: 'http://127.0.0.1:1/' });
    const sample = buildDingtalkSample(config, { text: 'ping', group: true });
    const outcome = await adapterFor(config).handleCallback(request(sample.body, { headers: sample.headers }));
    const event = onlyEvent(outcome);
    assert.equal(event.message.text, 'ping');
    assert.equal(event.message.mentionsBot, true);
    assert.equal(event.conversation.type, 'group');
    assert.equal((event.raw as { sessionWebhook: string }).sessionWebhook, 'http://127.0.0.1:1/robot/sendBySession?session=imgate-sample');
  });

  it('builds a single chat by default, each sample with its own msgId', async () => {
    const config = channel();
    const first = buildDingtalkSample(config);
    const second = buildDingtalkSample(config, { group: false });
    const event = onlyEvent(await adapterFor(config).handleCallback(request(first.body, { headers: first.headers })));
    assert.equal(event.conversation.type, 'direct');
    assert.equal(event.conversation.id, 'imgate-sample-user');
    assert.equal(event.message.text, 'hello from imgate simulate');
    assert.notEqual(JSON.parse(first.body).msgId, JSON.parse(second.body).msgId);
  });
});
