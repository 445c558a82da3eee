import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SendRequest } from '../../../src/platforms/_kit/adapter.ts';
import { createDiscordAdapter } from '../../../src/platforms/discord/index.ts';
import { normalizeDiscordCommand } from '../../../src/platforms/discord/interaction.ts';
import { normalizeDiscordDispatch } from '../../../src/platforms/discord/normalize.ts';
import { nonceOf } from '../../../src/platforms/discord/send.ts';
import { capturingLogger, testAdapterDeps } from '../../helpers/adapter-deps.ts';
import { failsWith, rejection } from '../../helpers/errors.ts';
import { API, APPLICATION_ID, BOT_TOKEN, BOT_USER_ID, DM_CHANNEL, FakeDiscordApi, GUILD_CHANNEL, commandInteraction, jsonOf, messageData, snowflakeNow } from '../../helpers/fake-discord.ts';
import { FAKE_PNG } from '../../helpers/wecom.ts';
import { channel, stored } from './helpers.ts';

const DM_MESSAGES = `${API}/channels/${DM_CHANNEL}/messages`;
const GUILD_MESSAGES = `${API}/channels/${GUILD_CHANNEL}/messages`;

function sendRequest(overrides: Partial<SendRequest>): SendRequest {
  return { to: DM_CHANNEL, mentions: [], replyTo: null, idempotencyKey: 'k-1', ...overrides };
}

describe('discord send', () => {
  const api = new FakeDiscordApi();
  const { logger, lines } = capturingLogger();
  const adapter = (overrides: Record<string, unknown> = {}) =>
    createDiscordAdapter(channel({ apiBase: `${api.url}/api`, gateway: false, ...overrides }), testAdapterDeps(logger));
  const last = async (path: string) => jsonOf(api.requestsTo(path).at(-1)!);

  before(() => api.start());
  after(() => api.stop());

  it('sends text with the bot token and a nonce from the idempotency key, and answers the message id', async () => {
    const result = await adapter().send!(sendRequest({ markdown: '**bold** and `code`' }));
    assert.match(result.platformMessageId ?? '', /^\d+$/);
    const request = api.requestsTo(DM_MESSAGES).at(-1)!;
    assert.equal(request.headers.authorization, `Bot ${BOT_TOKEN}`);
    assert.deepEqual(await jsonOf(request), {
      content: '**bold** and `code`',
      allowed_mentions: { parse: ['users'], replied_user: true },
      nonce: nonceOf('k-1', 0),
      enforce_nonce: true,
    });
    assert.equal(nonceOf('k-1', 0), nonceOf('k-1', 0), 'a retried send repeats its nonce');
    assert.notEqual(nonceOf('k-1', 0), nonceOf('k-1', 1));
    assert.equal(nonceOf('k-1', 0).length, 25);
  });

  it('puts mentions in front of the text as <@id>', async () => {
    await adapter().send!(sendRequest({ text: 'review please', mentions: ['1000000000000000011', '1000000000000000012'] }));
    assert.equal((await last(DM_MESSAGES)).content, '<@1000000000000000011> <@1000000000000000012> review please');
  });

  it('sends image.url as an embed and image.base64 as an uploaded attachment', async () => {
    await adapter().send!(sendRequest({ image: { url: 'https://example.com/chart.png' } }));
    assert.deepEqual((await last(DM_MESSAGES)).embeds, [{ image: { url: 'https://example.com/chart.png' } }]);
    await adapter().send!(sendRequest({ image: { base64: FAKE_PNG.toString('base64') } }));
    const request = api.requestsTo(DM_MESSAGES).at(-1)!;
    assert.match(String(request.headers['content-type']), /^multipart\/form-data/);
    const form = await new Response(request.body, { headers: { 'content-type': String(request.headers['content-type']) } }).formData();
    const file = form.get('files[0]') as File;
    assert.equal(file.name, 'image.png');
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), FAKE_PNG);
  });

  it('refuses a `to` or a mention that is not a Discord id, and a reply sent to another channel, before any call', async () => {
    const calls = api.server.requests.length;
    await assert.rejects(adapter().send!(sendRequest({ to: 'general', text: 'x' })), failsWith('IMG_ERR_VALIDATION', (e) => assert.equal(e.details?.field, 'to')));
    await assert.rejects(adapter().send!(sendRequest({ text: 'x', mentions: ['@bob'] })), failsWith('IMG_ERR_VALIDATION'));
    const message = stored(normalizeDiscordDispatch({ t: 'MESSAGE_CREATE', s: 1, d: messageData() }, BOT_USER_ID, new Date())!);
    await assert.rejects(adapter().send!(sendRequest({ to: DM_CHANNEL, text: 'x', replyTo: message })), failsWith('IMG_ERR_VALIDATION', (e) => assert.match(e.message, new RegExp(GUILD_CHANNEL))));
    assert.equal(api.server.requests.length, calls);
  });

  it('replies to a slash command whose token has expired with a plain message in its channel', async () => {
    const old = commandInteraction({ id: '1300000000000000900' });
    const event = stored(normalizeDiscordCommand(old, new Date()));
    await adapter().send!(sendRequest({ to: GUILD_CHANNEL, text: 'late answer', replyTo: event, replyToRaw: old }));
    const body = await last(GUILD_MESSAGES);
    assert.equal(body.content, 'late answer');
    assert.equal(body.message_reference, undefined);
    assert.equal(api.requestsTo(`${API}/webhooks/${APPLICATION_ID}/${String(old.token)}`).length, 0);
    assert.ok(lines.some((line) => line.includes('the interaction token has expired')));
  });

  it('posts every part of a long reply to a slash command as a followup', async () => {
    const fresh = commandInteraction({ id: snowflakeNow(5), token: 'FRESH-INTERACTION-TOKEN' });
    const event = stored(normalizeDiscordCommand(fresh, new Date()));
    const result = await adapter().send!(sendRequest({ to: GUILD_CHANNEL, text: `${'a'.repeat(1500)}\n${'b'.repeat(1500)}`, replyTo: event, replyToRaw: fresh }));
    const followups = api.requestsTo(`${API}/webhooks/${APPLICATION_ID}/FRESH-INTERACTION-TOKEN`);
    assert.equal(followups.length, 2);
    assert.ok(followups.every((request) => request.headers.authorization === undefined));
    assert.match(result.platformMessageId ?? '', /^\d+$/);
  });

  it('turns Discord refusals into errors an operator can act on, never showing a token', async () => {
    api.route(DM_MESSAGES, () => ({ status: 403, body: { message: 'Missing Permissions', code: 50013 } }));
    const denied = await rejection(adapter().send!(sendRequest({ text: 'x' })));
    assert.equal(denied.code, 'IMG_ERR_PLATFORM_REJECTED');
    assert.match(denied.message, /lacks a permission/);
    assert.deepEqual(denied.details, { httpStatus: 403, code: 50013, message: 'Missing Permissions' });

    api.route(DM_MESSAGES, () => ({ status: 503, body: 'upstream unavailable' }));
    const unavailable = await rejection(adapter().send!(sendRequest({ text: 'x' })));
    assert.equal(unavailable.code, 'IMG_ERR_PLATFORM_UNREACHABLE');
    assert.equal(unavailable.details?.outcome, 'not-sent');
    api.route(DM_MESSAGES, () => ({ status: 504, body: 'gateway timeout' }));
    assert.equal((await rejection(adapter().send!(sendRequest({ text: 'x' })))).details?.outcome, 'unknown');

    api.route(DM_MESSAGES, () => ({ status: 401, body: { message: '401: Unauthorized', code: 0 } }));
    assert.match((await rejection(adapter().send!(sendRequest({ text: 'x' })))).message, /refused the bot token/);
    api.route(DM_MESSAGES, null);
    const channelAdapter = adapter();
    await channelAdapter.send!(sendRequest({ text: 'after a 401' }));
    assert.equal(api.requestsTo(DM_MESSAGES).at(-1)!.headers.authorization, `Bot ${BOT_TOKEN}`, 'the token is used again after a 401');

    const fresh = commandInteraction({ id: snowflakeNow(6), token: 'SECRET-INTERACTION-TOKEN' });
    api.route(`${API}/webhooks/${APPLICATION_ID}/SECRET-INTERACTION-TOKEN`, () => ({ status: 404, body: { message: 'Unknown Webhook', code: 10015 } }));
    const gone = await rejection(adapter().send!(sendRequest({ to: GUILD_CHANNEL, text: 'x', replyTo: stored(normalizeDiscordCommand(fresh, new Date())), replyToRaw: fresh })));
    assert.equal(gone.code, 'IMG_ERR_PLATFORM_REJECTED');
    assert.ok(!JSON.stringify({ message: gone.message, details: gone.details }).includes('SECRET-INTERACTION-TOKEN'));
  });

  it('answers unreachable, not sent, when Discord cannot be reached', async () => {
    const unreachable = await rejection(adapter({ apiBase: 'http://127.0.0.1:1/api' }).send!(sendRequest({ text: 'x' })));
    assert.equal(unreachable.code, 'IMG_ERR_PLATFORM_UNREACHABLE');
    assert.equal(unreachable.details?.outcome, 'not-sent');
    assert.ok(!unreachable.message.includes(BOT_TOKEN));
  });

  it('says Discord drops repeats of channel messages (nonce) but not of interaction followups', () => {
    const fresh = commandInteraction({ id: snowflakeNow(7), token: 'LIVE-INTERACTION-TOKEN' });
    const command = stored(normalizeDiscordCommand(fresh, new Date()));
    const expired = commandInteraction({ id: '1300000000000000901' });
    const message = stored(normalizeDiscordDispatch({ t: 'MESSAGE_CREATE', s: 1, d: messageData() }, BOT_USER_ID, new Date())!);
    const channelAdapter = adapter();
    assert.equal(channelAdapter.dedupedByPlatform!(sendRequest({ text: 'x' })), true);
    assert.equal(channelAdapter.dedupedByPlatform!(sendRequest({ to: GUILD_CHANNEL, text: 'x', replyTo: message })), true);
    assert.equal(channelAdapter.dedupedByPlatform!(sendRequest({ to: GUILD_CHANNEL, text: 'x', replyTo: command, replyToRaw: fresh })), false);
    const late = stored(normalizeDiscordCommand(expired, new Date()));
    assert.equal(channelAdapter.dedupedByPlatform!(sendRequest({ to: GUILD_CHANNEL, text: 'x', replyTo: late, replyToRaw: expired })), true);
  });

  it('marks a failure after the first part of a long followup went out as of unknown outcome', async () => {
    const fresh = commandInteraction({ id: snowflakeNow(8), token: 'PARTS-INTERACTION-TOKEN' });
    const path = `${API}/webhooks/${APPLICATION_ID}/PARTS-INTERACTION-TOKEN`;
    api.route(path, () =>
      api.requestsTo(path).length === 1
        ? { status: 200, body: { id: '1400000000000009001', channel_id: GUILD_CHANNEL, type: 0, content: 'a' } }
        : { status: 503, body: 'upstream unavailable' },
    );
    try {
      const text = `${'a'.repeat(1500)}\n${'b'.repeat(1500)}`;
      const error = await rejection(adapter().send!(sendRequest({ to: GUILD_CHANNEL, text, replyTo: stored(normalizeDiscordCommand(fresh, new Date())), replyToRaw: fresh })));
      assert.equal(error.code, 'IMG_ERR_PLATFORM_UNREACHABLE');
      assert.deepEqual({ outcome: error.details?.outcome, partsSent: error.details?.partsSent }, { outcome: 'unknown', partsSent: 1 });
      assert.equal(api.requestsTo(path).length, 2);
    } finally {
      api.route(path, null);
    }
  });
});
