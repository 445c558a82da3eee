import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { feishu, feishuStartupWarnings, lark } from '../../../src/platforms/feishu/index.ts';
import { FEISHU_KEYS, feishuChannel } from './helpers.ts';

const parse = (fields: Record<string, unknown>) => feishu.configSchema.safeParse({ id: 'f', platform: 'feishu', appId: 'cli_x', appSecret: 's', ...fields });

describe('feishu and lark channel config', () => {
  it('defaults to webhook mode, a 300 s timestamp window and 5 messages a second per chat', () => {
    const result = parse({});
    assert.ok(result.success);
    assert.equal(result.data.mode, 'webhook');
    assert.equal(result.data.timestampWindowSeconds, 300);
    assert.deepEqual(result.data.rateLimit, { messages: 5, perSeconds: 1, maxWaitSeconds: 10 });
  });

  it('needs appId and appSecret, and takes websocket mode', () => {
    const missing = feishu.configSchema.safeParse({ id: 'f', platform: 'feishu' });
    assert.equal(missing.success, false);
    assert.deepEqual(missing.error!.issues.map((issue) => issue.path.join('.')).sort(), ['appId', 'appSecret']);
    assert.ok(parse({ mode: 'websocket' }).success);
    assert.equal(parse({ mode: 'stream' }).success, false);
  });

  it('keeps the platforms apart: a lark channel is not a feishu one', () => {
    assert.equal(lark.configSchema.safeParse({ id: 'l', platform: 'feishu', appId: 'a', appSecret: 's' }).success, false);
    assert.ok(lark.configSchema.safeParse({ id: 'l', platform: 'lark', appId: 'a', appSecret: 's' }).success);
  });

  it('is wired to warn at start', () => {
    assert.equal(feishu.startupWarnings, feishuStartupWarnings);
    assert.equal(lark.startupWarnings, feishuStartupWarnings);
  });

  it('warns at start about a channel with neither encryptKey nor verificationToken, and about websocket mode', () => {
    assert.match(feishuStartupWarnings(feishuChannel())[0] ?? '', /neither encryptKey nor verificationToken/);
    assert.deepEqual(feishuStartupWarnings(feishuChannel({ verificationToken: FEISHU_KEYS.verificationToken })), []);
    assert.deepEqual(feishuStartupWarnings(feishuChannel({ encryptKey: FEISHU_KEYS.encryptKey })), []);
    const websocket = feishuStartupWarnings(feishuChannel({ id: 'l', platform: 'lark', mode: 'websocket', encryptKey: 'k' }));
    assert.equal(websocket.length, 1);
    assert.match(websocket[0]!, /websocket .* not support yet: it receives nothing/);
  });
});
