import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { startBrowser, type TestBrowser } from '../helpers/browser.ts';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { ADMIN_TOKEN, API_TOKEN, removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { admin, call, padproHeaders, waitFor } from '../helpers/http.ts';

const SECRET = 'console-test-pad-secret';

/** The console in real Chromium against the real gateway (SQLite), with events put in as signed callbacks. */
describe('the admin console', () => {
  let gw: TestGateway;
  let browser: TestBrowser;
  let page: Page;
  const subscriber = new FakeHttpServer();
  const problems: string[] = [];

  async function callback(msgId: string, fromUser: string, content: string): Promise<void> {
    const body = JSON.stringify({ msgId, fromUser, toUser: 'wxid_bot', msgType: 1, content });
    const answer = await call('POST', `${gw.url}/hooks/wx`, { body, headers: padproHeaders(SECRET, body) });
    assert.equal(answer.status, 200, answer.text);
  }

  async function open(fragment: string): Promise<void> {
    await page.goto(`${gw.url}/console/#/${fragment}`);
  }

  const rowTexts = (selector: string) => page.locator(selector).allTextContents();
  const countOf = (selector: string, count: number) =>
    waitFor(async () => ((await page.locator(selector).count()) === count ? true : undefined), 10_000, `${count} × ${selector}`);

  before(async () => {
    // The console as `npm run build` makes it (tests run the server's sources, which serve dist/console).
    execFileSync(process.execPath, ['scripts/build-console.mjs'], { stdio: 'inherit' });
    await subscriber.start();
    gw = await startTestGateway({
      channels: [{ id: 'wx', platform: 'wechat-pad', secret: SECRET, apiBase: 'http://127.0.0.1:9', key: 'console-pad-key-0001' }],
      subscriptions: [
        { id: 'bot', url: `${subscriber.url}/bot`, secret: 'console-bot-secret-1' },
        // Nothing listens on port 9: each attempt fails, and with no retries the delivery is dead at once.
        { id: 'gone', url: 'http://127.0.0.1:9/hook', secret: 'console-gone-secret', retry: { schedule: [] } },
      ],
    });
    browser = await startBrowser();
    page = browser.page;
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
    });
    await callback('880001', 'wxid_alice', 'Is the invoice for March paid?');
    await callback('880002', 'wxid_bob', 'Lunch at noon');
    await callback('880003', 'wxid_alice', 'Please resend the INVOICE');
    await waitFor(async () => ((await admin('GET', `${gw.url}/v1/deliveries?status=dead&subscription=gone`)).json.data.length === 3 ? true : undefined));
  });

  after(async () => {
    await browser?.close();
    await gw?.close();
    await subscriber.stop();
    if (gw) removeDir(gw.dir);
  });

  it('is served with a strict Content-Security-Policy and no secret in the page', async () => {
    const answer = await call('GET', `${gw.url}/console/`);
    assert.equal(answer.status, 200);
    const csp = String(answer.headers['content-security-policy']);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /default-src 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
    assert.ok(!answer.text.includes(ADMIN_TOKEN));
    assert.equal((await call('GET', `${gw.url}/console`)).headers.location, '/console/');
  });

  it('refuses a wrong token and an API key with a clear message, then opens on the channels', async () => {
    await open('channels');
    await page.getByLabel('Admin token').fill('not-the-admin-token');
    await page.getByRole('button', { name: 'Open the console' }).click();
    await page.getByRole('alert').getByText('The gateway does not know this token').waitFor();
    await page.getByLabel('Admin token').fill(API_TOKEN);
    await page.getByRole('button', { name: 'Open the console' }).click();
    await page.getByRole('alert').getByText('This is an API key, not the admin token').waitFor();
    await browser.screenshot('login-refused');

    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Open the console' }).click();
    const row = page.locator('tr[data-channel="wx"]');
    await row.waitFor();
    const text = (await row.textContent()) ?? '';
    assert.match(text, /wechat-pad/);
    assert.match(text, /webhook/);
    assert.match(text, /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/, 'the last event');
    assert.ok(!page.url().includes(ADMIN_TOKEN));
    await browser.screenshot('channels');
  });

  it('searches events by text, sender and conversation, and shows an event with its deliveries', async () => {
    await open('events');
    await page.locator('tr[data-event]').nth(2).waitFor();
    await page.getByLabel('Text contains').fill('invoice');
    await page.getByRole('button', { name: 'Search' }).click();
    await countOf('tr[data-event]', 2);
    assert.deepEqual((await rowTexts('tr[data-event] td.text-cell')).sort(), ['Is the invoice for March paid?', 'Please resend the INVOICE']);
    assert.match(page.url(), /text=invoice/);

    await page.getByLabel('Text contains').fill('');
    await page.getByLabel('Sender id').fill('wxid_bob');
    await page.getByRole('button', { name: 'Search' }).click();
    await countOf('tr[data-event]', 1);
    assert.deepEqual(await rowTexts('tr[data-event] td.text-cell'), ['Lunch at noon']);

    await page.getByLabel('Sender id').fill('');
    await page.getByLabel('Conversation id').fill('wxid_nobody');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No event matches this search.').waitFor();

    await open('events?sender=wxid_alice');
    await countOf('tr[data-event]', 2);
    await browser.screenshot('events');
    await page.locator('tr[data-event] a').first().click();
    await page.locator('tr[data-delivery]').nth(1).waitFor();
    assert.deepEqual((await rowTexts('tr[data-delivery] td:nth-child(2)')).sort(), ['bot', 'gone']);
    await browser.screenshot('event');
  });

  it("shows a delivery's attempt log and replays it", async () => {
    const [dead] = (await admin('GET', `${gw.url}/v1/deliveries?status=dead&subscription=gone&limit=1`)).json.data;
    await open(`deliveries/${dead.id}`);
    await page.locator('tr[data-attempt="1"]').waitFor();
    assert.match((await page.locator('tr[data-attempt="1"]').textContent()) ?? '', /no answer/);
    await page.getByRole('button', { name: 'Replay' }).click();
    await page.getByRole('status').getByText('Replayed: the delivery is due again now.').waitFor();
    // The replayed attempt fails again (nothing listens) and is logged as attempt 2, not 1 again.
    await waitFor(async () => ((await admin('GET', `${gw.url}/v1/deliveries/${dead.id}`)).json.attemptLog.length === 2 ? true : undefined));
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.locator('tr[data-attempt="2"]').waitFor();
    await browser.screenshot('delivery');
  });

  it('lists dead letters and replays them all at once', async () => {
    await waitFor(async () => ((await admin('GET', `${gw.url}/v1/deliveries?status=dead&subscription=gone`)).json.data.length === 3 ? true : undefined));
    await open('dead?subscription=gone');
    await page.locator('tr[data-delivery]').nth(2).waitFor();
    await browser.screenshot('dead-letters');
    await page.getByRole('button', { name: 'Replay all of gone' }).click();
    await page.getByRole('status').getByText('Replayed 3 dead letters of gone.').waitFor();
  });

  it('creates, edits, disables and tests a subscription', async () => {
    await open('subscriptions');
    await page.getByRole('link', { name: 'New subscription' }).click();
    await page.getByRole('textbox', { name: /^Id/ }).fill('from-console');
    await page.getByLabel('URL').fill(`${subscriber.url}/console`);
    await page.getByLabel('Signing secret').fill('console-made-secret');
    await page.getByLabel('Channels').fill('wx');
    await browser.screenshot('subscription-form');
    await page.getByRole('button', { name: 'Create' }).click();
    const row = page.locator('tr[data-subscription="from-console"]');
    await row.waitFor();

    await row.getByRole('link', { name: 'Edit' }).click();
    await page.getByLabel('Group messages').selectOption('mention');
    await page.getByRole('button', { name: 'Save' }).click();
    await row.waitFor();
    const edited = (await admin('GET', `${gw.url}/v1/subscriptions/from-console`)).json;
    assert.equal(edited.groups, 'mention');
    assert.deepEqual(edited.channels, ['wx']);
    assert.equal(edited.secretCount, 1, 'the secret kept');

    const before = subscriber.requests.length;
    await row.getByRole('button', { name: 'Send a test' }).click();
    await page.getByRole('status').getByText('Test delivery to from-console').waitFor();
    assert.match((await page.getByRole('status').textContent()) ?? '', /^Test delivery to from-console: answered HTTP 200\. Attempt log$/);
    assert.equal(subscriber.requests.length, before + 1);
    assert.equal(subscriber.requests.at(-1)?.url, '/console');

    await row.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('status').getByText('from-console is disabled.').waitFor();
    assert.equal((await admin('GET', `${gw.url}/v1/subscriptions/from-console`)).json.enabled, false);

    await browser.screenshot('subscriptions');

    await open('subscriptions/new');
    await page.getByRole('textbox', { name: /^Id/ }).fill('from-console');
    await page.getByLabel('URL').fill(`${subscriber.url}/again`);
    await page.getByLabel('Signing secret').fill('console-made-secret');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('alert').getByText('IMG_ERR_ALREADY_EXISTS').waitFor();
  });

  it("shows a pull subscription's events live", async () => {
    await open('subscriptions/new');
    await page.getByRole('textbox', { name: /^Id/ }).fill('agent');
    await page.getByLabel('Pull subscription').check();
    await page.getByRole('button', { name: 'Create' }).click();
    await page.locator('tr[data-subscription="agent"]').getByRole('link', { name: 'Live view' }).click();
    await page.getByText('streaming').waitFor();
    await page.getByRole('button', { name: 'Send a test' }).click();
    await page.locator('tr[data-cursor="1"]').waitFor();
    await callback('880004', 'wxid_carol', 'Seen live in the console');
    await page.locator('tr[data-cursor="2"]').getByText('Seen live in the console').waitFor();
    await browser.screenshot('live');
    const stream = (await admin('GET', `${gw.url}/v1/subscriptions/agent`)).json.stream;
    assert.equal(stream.ackedCursor, null, 'watching acknowledges nothing');
  });

  it("shows the cluster's nodes and leases", async () => {
    await open('cluster');
    const { node } = (await admin('GET', `${gw.url}/v1/cluster`)).json;
    await page.getByText('(this one)').waitFor();
    assert.match((await page.locator('tbody tr').first().textContent()) ?? '', new RegExp(`${node}.*alive`));
    await browser.screenshot('cluster');
  });

  it('met no script error and no Content-Security-Policy violation on any page', () => {
    assert.deepEqual(problems, []);
  });
});
