import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { makeTempDir, removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { eventsOf } from '../helpers/http.ts';
import { BOT_TOKEN, FakeTelegramApi, SECRET_TOKEN } from '../helpers/fake-telegram.ts';

/** The CLI as its own process (the fake API and gateway run in this one, so never blocking it). */
async function imgate(args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('imgate <platform> <command> (telegram)', () => {
  const api = new FakeTelegramApi();
  const dir = makeTempDir();
  const configPath = join(dir, 'imgate.yaml');
  const hook = 'https://bot.example.test/hooks/tg';
  let gateway: TestGateway;

  before(async () => {
    await api.start();
    const channels = [
      { id: 'tg', platform: 'telegram', token: BOT_TOKEN, secretToken: SECRET_TOKEN, apiBase: api.url },
      { id: 'tg-poll', platform: 'telegram', mode: 'polling', token: BOT_TOKEN, apiBase: api.url },
      { id: 'tg-badtoken', platform: 'telegram', token: '7000000009:AAHnot-the-bot-token-SECRET', secretToken: SECRET_TOKEN, apiBase: api.url },
    ];
    gateway = await startTestGateway({ channels: [channels[0]] });
    writeFileSync(configPath, stringify({ channels, admin: { token: 'test-admin-token-0123456789' } }));
  });
  after(async () => {
    await gateway.close();
    await api.stop();
    removeDir(gateway.dir);
    removeDir(dir);
  });

  it('set-webhook calls setWebhook with the URL, the secret token and the handled updates, and prints what Telegram then has', async () => {
    const result = await imgate(['telegram', 'set-webhook', '--config', configPath, '--webhook-url', hook, '--drop-pending-updates']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await api.calls('setWebhook'), [
      { url: hook, secret_token: SECRET_TOKEN, allowed_updates: ['message', 'edited_message', 'channel_post', 'callback_query'], drop_pending_updates: true },
    ]);
    const printed = JSON.parse(result.stdout);
    assert.equal(printed.setWebhook, true);
    assert.equal(printed.webhookInfo.url, hook);
  });

  it('webhook-info and delete-webhook', async () => {
    const info = await imgate(['telegram', 'webhook-info', '--config', configPath]);
    assert.equal(info.code, 0, info.stderr);
    assert.equal(JSON.parse(info.stdout).url, hook);
    const deleted = await imgate(['telegram', 'delete-webhook', '--config', configPath, '--channel', 'tg-poll']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual(JSON.parse(deleted.stdout), { deleteWebhook: true, webhookInfo: { url: '', has_custom_certificate: false, pending_update_count: 0 } });
  });

  it('refuses set-webhook for a channel in polling mode or without a URL, and blanks the token when Telegram refuses it', async () => {
    const polling = await imgate(['telegram', 'set-webhook', '--config', configPath, '--channel', 'tg-poll', '--webhook-url', hook]);
    assert.equal(polling.code, 1);
    assert.match(polling.stderr, /is in polling mode/);
    const noUrl = await imgate(['telegram', 'set-webhook', '--config', configPath]);
    assert.equal(noUrl.code, 1);
    assert.match(noUrl.stderr, /give --webhook-url https:\/\/<your public host>\/hooks\/tg/);
    const badToken = await imgate(['telegram', 'webhook-info', '--config', configPath, '--channel', 'tg-badtoken']);
    assert.equal(badToken.code, 1);
    assert.match(badToken.stderr, /Telegram refused the bot token \(401\)/);
    assert.ok(!badToken.stderr.includes('not-the-bot-token-SECRET'));
  });

  it('simulate telegram posts an update with the secret token, which the gateway stores', async () => {
    for (const args of [['--text', 'simulated hello'], ['--group', '--text', 'simulated group']]) {
      const result = await imgate(['simulate', 'telegram', '--config', configPath, '--url', gateway.url, ...args]);
      assert.equal(result.code, 0, result.stderr);
    }
    const events = await eventsOf(gateway.url);
    assert.equal(events.find((e) => e.message.text === 'simulated hello').conversation.type, 'direct');
    const group = events.find((e) => e.message.text === 'simulated group');
    assert.equal(group.conversation.type, 'group');
    assert.equal(group.message.mentionsBot, true);
  });
});
