import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { makeTempDir, removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { eventsOf, waitFor } from '../helpers/http.ts';
import { FakeWecomApi, WECOM_KEYS } from '../helpers/wecom.ts';
import { testKeyPair } from '../helpers/fake-discord.ts';
import { SIMULATED_PLATFORMS } from '../../src/cli/simulate-sample.ts';

function imgate(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The same, without blocking this process: the gateway under test runs in it. */
async function imgateAsync(args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('the imgate command', () => {
  const dir = makeTempDir();
  after(() => removeDir(dir));

  it('init writes the commented starter config, and will not overwrite it', () => {
    const path = join(dir, 'imgate.yaml');
    const first = imgate(['init', '-o', path]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(readFileSync(path, 'utf8'), /^# imgate configuration/);
    const again = imgate(['init', '-o', path]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists; use --force/);
  });

  it('check names each missing variable of the starter config, then accepts it once they are set', () => {
    const path = join(dir, 'imgate.yaml');
    const missing = imgate(['check', '--config', path]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /admin\.token: environment variable IMGATE_ADMIN_TOKEN is not set/);
    assert.match(missing.stderr, /channels\[0\]\.secret: environment variable WECHAT_WEBHOOK_SECRET is not set/);
    const env = {
      IMGATE_ADMIN_TOKEN: 'admin-token-0123456789',
      WECHATPADPRO_KEY: 'pad-key',
      WECHAT_WEBHOOK_SECRET: 'very-secret-value',
      OPENCLAW_WEBHOOK_SECRET: 'openclaw-secret',
      OPENCLAW_BOT_TOKEN: 'openclaw-bot-token-0123',
    };
    const valid = imgate(['check', '--config', path], env);
    assert.equal(valid.code, 0, valid.stderr);
    assert.match(valid.stdout, /1 channel\(s\): wx-main \(wechat-pad\)/);
    assert.ok(!valid.stdout.includes('very-secret-value'));
  });

  it('check refuses an invalid config with the path and reason, never the value', () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, stringify({ apiKeys: [{ id: 'k', token: 'short-secret' }], server: { port: 70000 } }));
    const result = imgate(['check', '--config', path]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /server\.port: /);
    assert.match(result.stderr, /apiKeys\[0\]\.token: at least 16 characters/);
    assert.ok(!result.stderr.includes('short-secret'));
  });

  describe('against a running gateway', () => {
    let gw: TestGateway;
    const configPath = join(dir, 'client.yaml');
    const channel = { id: 'wx', platform: 'wechat-pad', secret: 'cli-test-secret', botWxid: 'wxid_bot' };

    before(async () => {
      gw = await startTestGateway({ channels: [channel] }, makeTempDir());
      writeFileSync(configPath, stringify({ channels: [channel], admin: { token: 'test-admin-token-0123456789' } }));
    });
    after(async () => {
      await gw.close();
      removeDir(gw.dir);
    });

    it('simulate wechat-pad posts signed samples that the gateway stores', async () => {
      for (const args of [[], ['--format', 'flat'], ['--group', '--text', 'hello room']]) {
        const result = await imgateAsync(['simulate', 'wechat-pad', '--config', configPath, '--url', gw.url, ...args]);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /"ok": true/);
      }
      const events = await eventsOf(gw.url);
      assert.equal(events.length, 3);
      const group = events.find((e) => e.message.text === 'hello room');
      assert.equal(group.conversation.type, 'group');
      assert.equal(group.message.mentionsBot, true);
    });

    it('replay asks the gateway to deliver again, and says what went wrong', async () => {
      const result = await imgateAsync(['replay', 'dlv_missing', '--config', configPath, '--url', gw.url]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /HTTP 404: .*IMG_ERR_NOT_FOUND/);
    });
  });
  describe('tail', () => {
    let gw: TestGateway;
    const configPath = join(dir, 'tail.yaml');
    const channel = { id: 'wx', platform: 'wechat-pad', secret: 'cli-tail-secret' };

    before(async () => {
      gw = await startTestGateway({ channels: [channel], subscriptions: [{ id: 'agent', pull: true }] }, makeTempDir());
      writeFileSync(configPath, stringify({ channels: [channel], admin: { token: 'test-admin-token-0123456789' } }));
    });
    after(async () => {
      await gw.close();
      removeDir(gw.dir);
    });

    /** Runs `imgate tail agent` until it printed `lines` lines, then stops it with SIGINT. */
    async function tail(lines: number, post: () => Promise<void>, args: string[] = []): Promise<{ code: number | null; out: string[] }> {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'tail', 'agent', '--config', configPath, '--url', gw.url, ...args], {
        env: { PATH: process.env.PATH ?? '' },
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      // Once its first poll is waiting: the gateway logs nothing for it before it answers, so give it a moment.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await post();
      await waitFor(() => (out.split('\n').filter(Boolean).length >= lines ? true : undefined), 10_000, `${lines} lines`);
      child.kill('SIGINT');
      return { code: await exited, out: out.split('\n').filter(Boolean) };
    }

    async function simulate(text: string): Promise<void> {
      const result = await imgateAsync(['simulate', 'wechat-pad', '--config', configPath, '--url', gw.url, '--text', text]);
      assert.equal(result.code, 0, result.stderr);
    }

    it('prints the events of a pull subscription as they arrive, and the next tail resumes after the last one printed', async () => {
      const first = await tail(2, async () => {
        await simulate('first line');
        await simulate('second line');
      });
      assert.equal(first.code, 0);
      assert.match(first.out[0] ?? '', /^1 {2}\S+ {2}wx {2}\S+ {2}.+: first line$/);
      assert.match(first.out[1] ?? '', /^2 .*: second line$/);

      const second = await tail(1, () => simulate('third line'), ['--json']);
      assert.equal(second.code, 0);
      assert.equal(second.out.length, 1, 'nothing printed twice');
      const printed = JSON.parse(second.out[0] ?? '{}');
      assert.equal(printed.cursor, '3');
      assert.equal(printed.event.message.text, 'third line');
    });
  });

  describe('simulate for the WeCom, DingTalk and Feishu channels', () => {
    let gw: TestGateway;
    const wecom = new FakeWecomApi();
    const configPath = join(dir, 'wecom.yaml');
    const keys = { token: WECOM_KEYS.token, encodingAESKey: WECOM_KEYS.encodingAESKey };
    const discordKeys = testKeyPair();

    before(async () => {
      await wecom.start();
      wecom.route('/cgi-bin/kf/sync_msg', () => ({ status: 200, body: { errcode: 0, errmsg: 'ok', next_cursor: 'c1', has_more: 0, msg_list: [] } }));
      const channels = [
        { id: 'app', platform: 'wecom', corpId: WECOM_KEYS.corpId, corpSecret: 'app-secret', agentId: 1000002, ...keys },
        { id: 'robot', platform: 'wecom-robot', webhookKey: 'robot-key', ...keys },
        { id: 'kf', platform: 'wecom-kf', apiBase: wecom.url, corpId: WECOM_KEYS.corpId, corpSecret: 'kf-secret', pollIntervalSeconds: 0, ...keys },
        { id: 'ding', platform: 'dingtalk', appKey: 'ding-app-key', appSecret: 'ding-app-secret' },
        { id: 'fs', platform: 'feishu', appId: 'cli_app', appSecret: 'fs-secret', encryptKey: 'fs-encrypt-key', verificationToken: 'fs-token', botOpenId: 'ou_bot' },
        { id: 'qq', platform: 'qq', appId: '102000001', secret: 'qq-cli-bot-secret' },
        { id: 'dc', platform: 'discord', token: 'cli-bot-token', gateway: false, publicKey: discordKeys.publicKeyHex, testPrivateKey: discordKeys.privateKeyHex },
        { id: 'dc-real', platform: 'discord', token: 'cli-bot-token', gateway: false, publicKey: discordKeys.publicKeyHex },
      ];
      gw = await startTestGateway({ channels }, makeTempDir());
      writeFileSync(configPath, stringify({ channels, admin: { token: 'test-admin-token-0123456789' } }));
    });
    after(async () => {
      await gw.close();
      await wecom.stop();
      removeDir(gw.dir);
    });

    it('sends encrypted app and robot messages, and signed DingTalk and Feishu messages, that the gateway stores', async () => {
      for (const platform of ['wecom', 'wecom-robot']) {
        const result = await imgateAsync(['simulate', platform, '--text', `hi from ${platform}`, '--config', configPath, '--url', gw.url]);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /^sent an encrypted/);
      }
      const group = await imgateAsync(['simulate', 'dingtalk', '--group', '--text', 'hi from dingtalk', '--config', configPath, '--url', gw.url]);
      assert.equal(group.code, 0, group.stderr);
      assert.match(group.stdout, /^sent a signed group text message/);
      const feishu = await imgateAsync(['simulate', 'feishu', '--text', 'hi from feishu', '--config', configPath, '--url', gw.url]);
      assert.equal(feishu.code, 0, feishu.stderr);
      assert.match(feishu.stdout, /^sent an encrypted, signed im\.message\.receive_v1/);
      const texts = (await eventsOf(gw.url)).map((event) => `${event.channel}: ${event.message.text}`).sort();
      assert.deepEqual(texts, ['app: hi from wecom', 'ding: hi from dingtalk', 'fs: hi from feishu', 'robot: hi from wecom-robot']);
    });

    it('sends signed QQ C2C and group events that the gateway stores', async () => {
      const direct = await imgateAsync(['simulate', 'qq', '--text', 'hi from qq', '--config', configPath, '--url', gw.url]);
      assert.equal(direct.code, 0, direct.stderr);
      assert.match(direct.stdout, /^sent a signed C2C_MESSAGE_CREATE/);
      const group = await imgateAsync(['simulate', 'qq', '--group', '--text', 'hi qq group', '--config', configPath, '--url', gw.url]);
      assert.equal(group.code, 0, group.stderr);
      assert.match(group.stdout, /^sent a signed GROUP_AT_MESSAGE_CREATE/);
      const events = (await eventsOf(gw.url)).filter((event) => event.channel === 'qq');
      assert.deepEqual(events.map((event) => [event.conversation.type, event.message.text]).sort(), [
        ['direct', 'hi from qq'],
        ['group', 'hi qq group'],
      ]);
    });

    it('sends a Discord slash command signed with the test key, and explains why it cannot without one', async () => {
      const result = await imgateAsync(['simulate', 'discord', '--text', 'hi from discord', '--config', configPath, '--url', gw.url]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^sent a \/imgate slash command/);
      assert.match(result.stdout, /"type": 5/);
      const events = (await eventsOf(gw.url)).filter((event) => event.channel === 'dc');
      assert.deepEqual(events.map((event) => event.message.text), ['/imgate text:hi from discord']);
      const refused = await imgateAsync(['simulate', 'discord', '--channel', 'dc-real', '--config', configPath, '--url', gw.url]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /has no testPrivateKey/);
    });

    it('sends a customer-service notice, after which the gateway pulls kf/sync_msg for that account', async () => {
      const result = await imgateAsync(['simulate', 'wecom-kf', '--open-kf-id', 'wkCliTest', '--config', configPath, '--url', gw.url]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /"success"/);
      assert.match(result.stdout, /the gateway pulled the messages \(lastPullAt \d{4}-/);
      const pull = wecom.requestsTo('/cgi-bin/kf/sync_msg')[0];
      assert.equal(JSON.parse(pull!.body.toString('utf8')).open_kfid, 'wkCliTest');
    });

    it('reports failure, exit code 1, when the pull after the notice fails, though the notice was answered', async () => {
      wecom.route('/cgi-bin/kf/sync_msg', () => ({ status: 200, body: { errcode: 95018, errmsg: 'invalid open_kfid' } }));
      try {
        const result = await imgateAsync(['simulate', 'wecom-kf', '--open-kf-id', 'wkCliBroken', '--config', configPath, '--url', gw.url]);
        assert.equal(result.code, 1, result.stdout);
        assert.match(result.stdout, /"success"/, 'the gateway answered the notice');
        assert.match(result.stderr, /^imgate: the gateway's pull after the notice failed: IMG_ERR_\w+: .*95018/);
        assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      } finally {
        wecom.route('/cgi-bin/kf/sync_msg', () => ({ status: 200, body: { errcode: 0, errmsg: 'ok', next_cursor: 'c1', has_more: 0, msg_list: [] } }));
      }
    });

    it('refuses a platform it cannot simulate', async () => {
      const result = await imgateAsync(['simulate', 'no-such-platform', '--config', configPath, '--url', gw.url]);
      assert.equal(result.code, 1);
      assert.ok(result.stderr.includes(`Allowed choices are ${SIMULATED_PLATFORMS.join(', ')}`), result.stderr);
    });
  });
});
