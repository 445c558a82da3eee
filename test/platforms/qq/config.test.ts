import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QQ_API_BASE, QQ_DEFAULT_INTENTS, QQ_TOKEN_BASE, apiBaseOf, tokenBaseOf } from '../../../src/platforms/qq/config.ts';
import { qq } from '../../../src/platforms/qq/index.ts';
import { APP_ID, SECRET, channel } from './helpers.ts';

const parse = (fields: Record<string, unknown>) => qq.configSchema.safeParse({ id: 'qq', platform: 'qq', ...fields });

describe('qq channel config', () => {
  it("defaults to webhook mode on QQ's own hosts", () => {
    const config = channel();
    assert.equal(config.mode, 'webhook');
    assert.equal(config.intents, QQ_DEFAULT_INTENTS);
    assert.equal(QQ_DEFAULT_INTENTS, (1 << 25) | (1 << 12) | (1 << 30));
    assert.equal(apiBaseOf(config), QQ_API_BASE);
    assert.equal(tokenBaseOf(config), QQ_TOKEN_BASE);
  });

  it('takes apiBase (e.g. the sandbox) and tokenBase without their trailing slash, and intents from the environment', () => {
    const config = channel({ apiBase: 'https://sandbox.api.sgroup.qq.com/', tokenBase: 'http://127.0.0.1:9/tokens/', mode: 'websocket', intents: '33554432' });
    assert.equal(apiBaseOf(config), 'https://sandbox.api.sgroup.qq.com');
    assert.equal(tokenBaseOf(config), 'http://127.0.0.1:9/tokens');
    assert.equal(config.intents, 1 << 25);
  });

  it('needs appId and secret, and refuses unknown modes, keys and URLs that are not URLs', () => {
    const missing = parse({ appId: APP_ID });
    assert.equal(missing.success, false);
    assert.deepEqual(missing.error!.issues.map((issue) => issue.path.join('.')), ['secret']);
    assert.equal(parse({ appId: APP_ID, secret: SECRET, mode: 'stream' }).success, false);
    assert.equal(parse({ appId: APP_ID, secret: SECRET, appSecret: 'x' }).success, false);
    assert.equal(parse({ appId: APP_ID, secret: SECRET, tokenBase: 'bots.qq.com' }).success, false);
    assert.equal(parse({ appId: APP_ID, secret: SECRET, intents: -1 }).success, false);
  });
});
