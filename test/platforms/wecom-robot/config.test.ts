import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wecomRobot } from '../../../src/platforms/wecom-robot/index.ts';
import { WECOM_KEYS } from '../../helpers/wecom.ts';

const parse = (fields: Record<string, unknown>) => wecomRobot.configSchema.safeParse({ id: 'robot', platform: 'wecom-robot', ...fields });

function issues(fields: Record<string, unknown>): string[] {
  const result = parse(fields);
  assert.equal(result.success, false, 'expected the config to be refused');
  return result.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('wecom-robot channel config', () => {
  it('sends only, with just a webhookKey, limited to 20 messages a minute per robot by default', () => {
    const result = parse({ webhookKey: 'abc-123' });
    assert.ok(result.success);
    assert.deepEqual(result.data.rateLimit, { messages: 20, perSeconds: 60, maxWaitSeconds: 60 });
    assert.equal(result.data.token, undefined);
  });

  it('receives only, with token and encodingAESKey', () => {
    assert.ok(parse({ token: WECOM_KEYS.token, encodingAESKey: WECOM_KEYS.encodingAESKey }).success);
  });

  it('wants token and encodingAESKey together', () => {
    assert.deepEqual(issues({ webhookKey: 'k', token: WECOM_KEYS.token }), [
      'encodingAESKey: token and encodingAESKey go together: give both to receive callbacks, or neither',
    ]);
    assert.equal(issues({ webhookKey: 'k', encodingAESKey: WECOM_KEYS.encodingAESKey })[0]?.startsWith('token:'), true);
  });

  it('refuses a channel that can neither send nor receive', () => {
    assert.deepEqual(issues({}), ['webhookKey: give webhookKey to send, or token and encodingAESKey to receive (or all three)']);
  });

  it('refuses a whole webhook URL where the key belongs', () => {
    const found = issues({ webhookKey: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc' });
    assert.match(found[0] ?? '', /^webhookKey: only the key/);
  });

  it('reads rate limits written as text (from ${VAR})', () => {
    const result = parse({ webhookKey: 'k', rateLimit: { messages: '100', maxWaitSeconds: '0' } });
    assert.ok(result.success);
    assert.deepEqual(result.data.rateLimit, { messages: 100, perSeconds: 60, maxWaitSeconds: 0 });
  });

  it('refuses unknown rate limit keys', () => {
    assert.match(issues({ webhookKey: 'k', rateLimit: { perMinute: 20 } })[0] ?? '', /^rateLimit/);
  });
});
