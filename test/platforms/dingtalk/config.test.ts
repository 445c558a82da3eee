import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dingtalk } from '../../../src/platforms/dingtalk/index.ts';
import { gatewayBaseOf, robotCodeOf } from '../../../src/platforms/dingtalk/config.ts';
import { APP_KEY, APP_SECRET, channel } from './helpers.ts';

const parse = (fields: Record<string, unknown>) => dingtalk.configSchema.safeParse({ id: 'ding', platform: 'dingtalk', ...fields });

describe('dingtalk channel config', () => {
  it('defaults to HTTP mode, DingTalk\'s one-hour window, and the appKey as robotCode', () => {
    const result = parse({ appKey: APP_KEY, appSecret: APP_SECRET });
    assert.ok(result.success);
    assert.equal(result.data.mode, 'http');
    assert.equal(result.data.timestampWindowSeconds, 3600);
    assert.equal(result.data.apiBase, undefined);
    assert.equal(robotCodeOf(result.data), APP_KEY);
    assert.equal(robotCodeOf(channel({ robotCode: 'dingRobot42' })), 'dingRobot42');
  });

  it('accepts stream mode without a warning, its gateway host defaulting to apiBase', () => {
    const config = channel({ mode: 'stream', apiBase: 'http://127.0.0.1:9/' });
    assert.equal(config.mode, 'stream');
    assert.equal(gatewayBaseOf(config), 'http://127.0.0.1:9');
    assert.equal(gatewayBaseOf(channel({ mode: 'stream', gatewayUrl: 'http://127.0.0.1:8/gw/' })), 'http://127.0.0.1:8/gw');
    assert.deepEqual(dingtalk.startupWarnings!(config), []);
    assert.deepEqual(dingtalk.startupWarnings!(channel()), []);
  });

  it('warns when the timestamp window is off', () => {
    assert.match(dingtalk.startupWarnings!(channel({ timestampWindowSeconds: '0' }))[0] ?? '', /timestampWindowSeconds 0/);
  });

  it('needs appKey and appSecret, and refuses unknown modes and keys', () => {
    const missing = parse({ appKey: APP_KEY });
    assert.equal(missing.success, false);
    assert.deepEqual(missing.error!.issues.map((issue) => issue.path.join('.')), ['appSecret']);
    assert.equal(parse({ appKey: APP_KEY, appSecret: APP_SECRET, mode: 'websocket' }).success, false);
    assert.equal(parse({ appKey: APP_KEY, appSecret: APP_SECRET, clientSecret: 'x' }).success, false);
    assert.equal(parse({ appKey: APP_KEY, appSecret: APP_SECRET, tokenUrl: 'not a url' }).success, false);
  });
});
