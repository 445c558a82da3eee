import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { slack } from '../../../src/platforms/slack/index.ts';
import { slackApiBase } from '../../../src/platforms/slack/config.ts';
import { APP_TOKEN, BOT_TOKEN, SIGNING_SECRET } from './helpers.ts';

const parse = (fields: Record<string, unknown>) => slack.configSchema.safeParse({ id: 'slack-main', platform: 'slack', botToken: BOT_TOKEN, ...fields });

describe('slack channel config', () => {
  it("defaults to events mode, Slack's five-minute window, slack.com and one message a second per channel", () => {
    const result = parse({ signingSecret: SIGNING_SECRET });
    assert.ok(result.success);
    assert.equal(result.data.mode, 'events');
    assert.equal(result.data.timestampWindowSeconds, 300);
    assert.equal(slackApiBase(result.data), 'https://slack.com');
    assert.deepEqual(result.data.rateLimit, { messages: 1, perSeconds: 1, maxWaitSeconds: 10 });
    assert.equal(slackApiBase({ apiBase: 'http://127.0.0.1:9/' }), 'http://127.0.0.1:9');
  });

  it('needs the signingSecret in events mode and the app-level token in socket mode', () => {
    const noSecret = parse({});
    assert.ok(!noSecret.success);
    assert.deepEqual(noSecret.error.issues[0]?.path, ['signingSecret']);
    const noAppToken = parse({ mode: 'socket' });
    assert.ok(!noAppToken.success);
    assert.deepEqual(noAppToken.error.issues[0]?.path, ['appToken']);
    assert.ok(parse({ mode: 'socket', appToken: APP_TOKEN }).success);
  });

  it('refuses tokens of the wrong kind', () => {
    assert.ok(!parse({ signingSecret: SIGNING_SECRET, botToken: 'xoxp-user-token' }).success);
    assert.ok(!parse({ mode: 'socket', appToken: BOT_TOKEN }).success);
  });
});
