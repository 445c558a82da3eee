import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { feishuGatewayBase } from '../../../src/platforms/feishu/config.ts';
import { feishu, feishuStartupWarnings, lark } from '../../../src/platforms/feishu/index.ts';
import { FEISHU_KEYS, WS_APP_ID, feishuChannel } from './helpers.ts';

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
    assert.ok(parse({ mode: 'websocket', appId: WS_APP_ID }).success);
    assert.equal(parse({ mode: 'stream' }).success, false);
  });

  it('refuses, in websocket mode only, an App ID the SDK would never connect with', () => {
    const refused = parse({ mode: 'websocket', appId: 'cli_not0hex0at0all' });
    assert.equal(refused.success, false);
    assert.deepEqual(refused.error!.issues.map((issue) => issue.path.join('.')), ['appId']);
    assert.match(refused.error!.issues[0]!.message, /cli_ and 16 hex digits/);
    assert.ok(parse({ appId: 'cli_not0hex0at0all' }).success, 'webhook mode never hands the App ID to the SDK');
  });

  it('asks the long connection of gatewayUrl, else of the API host', () => {
    assert.equal(feishuGatewayBase(feishuChannel({ platform: 'lark' })), 'https://open.larksuite.com');
    assert.equal(feishuGatewayBase(feishuChannel({ apiBase: 'http://127.0.0.1:8080/' })), 'http://127.0.0.1:8080');
    assert.equal(feishuGatewayBase(feishuChannel({ apiBase: 'http://127.0.0.1:8080', gatewayUrl: 'http://127.0.0.1:9090/' })), 'http://127.0.0.1:9090');
  });

  it('keeps the platforms apart: a lark channel is not a feishu one', () => {
    assert.equal(lark.configSchema.safeParse({ id: 'l', platform: 'feishu', appId: 'a', appSecret: 's' }).success, false);
    assert.ok(lark.configSchema.safeParse({ id: 'l', platform: 'lark', appId: 'a', appSecret: 's' }).success);
  });

  it('is wired to warn at start', () => {
    assert.equal(feishu.startupWarnings, feishuStartupWarnings);
    assert.equal(lark.startupWarnings, feishuStartupWarnings);
  });

  it('warns at start about a webhook channel with neither encryptKey nor verificationToken', () => {
    assert.match(feishuStartupWarnings(feishuChannel())[0] ?? '', /neither encryptKey nor verificationToken/);
    assert.deepEqual(feishuStartupWarnings(feishuChannel({ verificationToken: FEISHU_KEYS.verificationToken })), []);
    assert.deepEqual(feishuStartupWarnings(feishuChannel({ encryptKey: FEISHU_KEYS.encryptKey })), []);
  });

  it('does not warn about a websocket channel without those keys: only the App Secret opens its connection', () => {
    assert.deepEqual(feishuStartupWarnings(feishuChannel({ id: 'l', platform: 'lark', mode: 'websocket', appId: WS_APP_ID })), []);
  });
});
