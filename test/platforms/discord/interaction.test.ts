import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDiscordAdapter } from '../../../src/platforms/discord/index.ts';
import { commandLine, redactInteractionToken, snowflakeTime } from '../../../src/platforms/discord/interaction.ts';
import { ALICE, APPLICATION_ID, BOB, DM_CHANNEL, GUILD_CHANNEL, commandInteraction, officiallyValid, signedInteractionHeaders, snowflakeNow, testKeyPair } from '../../helpers/fake-discord.ts';
import { testAdapterDeps } from '../../helpers/adapter-deps.ts';
import { failsWith } from '../../helpers/errors.ts';
import { channel, interactionRequest, onlyEvent } from './helpers.ts';

const keys = testKeyPair();
const adapter = (overrides: Record<string, unknown> = {}) => createDiscordAdapter(channel({ publicKey: keys.publicKeyHex, gateway: false, ...overrides }), testAdapterDeps());
const ping = () => ({ id: snowflakeNow(), application_id: APPLICATION_ID, type: 1, version: 1 });

describe('discord interactions', () => {
  it('answers a PING signed as Discord signs it (checked by discord-interactions) with PONG, storing nothing', async () => {
    const body = JSON.stringify(ping());
    assert.equal(await officiallyValid(keys, body, signedInteractionHeaders(keys, body)), true);
    const outcome = await adapter().handleCallback(interactionRequest(body, keys));
    assert.deepEqual(outcome, { kind: 'reply', reply: { status: 200, contentType: 'application/json', body: { type: 1 } } });
  });

  it('refuses a wrong, malformed or missing signature with 401, as Discord checks', async () => {
    const body = JSON.stringify(ping());
    const other = testKeyPair();
    await assert.rejects(async () => adapter().handleCallback(interactionRequest(body, other)), failsWith('IMG_ERR_INBOUND_BAD_SIGNATURE', (e) => assert.equal(e.status, 401)));
    const good = signedInteractionHeaders(keys, body);
    for (const headers of [
      { ...good, 'x-signature-ed25519': 'zz' },
      { ...good, 'x-signature-ed25519': good['x-signature-ed25519']!.slice(2) + '00' },
      { 'content-type': 'application/json', 'x-signature-timestamp': good['x-signature-timestamp']! },
      { ...good, 'x-signature-timestamp': String(Number(good['x-signature-timestamp']) + 1) },
    ]) {
      await assert.rejects(async () => adapter().handleCallback(interactionRequest(body, keys, { headers })), failsWith('IMG_ERR_INBOUND_BAD_SIGNATURE'));
    }
  });

  it('refuses a correctly signed interaction older than the window, unless the window is off', async () => {
    const old = String(Math.floor(Date.now() / 1000) - 600);
    const request = interactionRequest(ping(), keys, { timestamp: old });
    await assert.rejects(async () => adapter().handleCallback(request), failsWith('IMG_ERR_INBOUND_STALE_TIMESTAMP'));
    assert.equal((await adapter({ timestampWindowSeconds: 0 }).handleCallback(request)).kind, 'reply');
  });

  it('refuses interactions when the channel has no publicKey, saying what to set', async () => {
    const noKey = createDiscordAdapter(channel({ gateway: false }), testAdapterDeps());
    await assert.rejects(
      async () => noKey.handleCallback(interactionRequest(ping(), keys)),
      failsWith('IMG_ERR_INBOUND_UNSUPPORTED', (e) => assert.match(e.message, /no publicKey.*Public Key/)),
    );
  });

  it('answers a type or option that is an object with a toString key with 400 or as text, not a TypeError (a 500)', async () => {
    // Found by test/properties/discord-interaction.test.ts: String() throws on `{"toString": ""}`.
    const odd = { ...ping(), type: { toString: '' } };
    await assert.rejects(async () => adapter().handleCallback(interactionRequest(odd, keys)), failsWith('IMG_ERR_INBOUND_UNSUPPORTED', (e) => assert.match(e.message, /type \{"toString":""\}/)));
    assert.equal(commandLine('deploy', [{ name: { toString: 1 }, type: 3, value: [{ valueOf: 2 }] }]), '/deploy {"toString":1}:[{"valueOf":2}]');
    assert.equal(commandLine('deploy', [{ name: 'env', type: 3, value: 'prod' }, { name: 'force', type: 5, value: true }]), '/deploy env:prod force:true');
  });

  it('answers other methods with 405 and interaction types it does not handle with 400', async () => {
    await assert.rejects(async () => adapter().handleCallback(interactionRequest(ping(), keys, { method: 'GET' })), failsWith('IMG_ERR_INBOUND_METHOD'));
    const button = { ...ping(), type: 3, data: { custom_id: 'ok' } };
    await assert.rejects(async () => adapter().handleCallback(interactionRequest(button, keys)), failsWith('IMG_ERR_INBOUND_UNSUPPORTED', (e) => assert.match(e.message, /type 3/)));
    await assert.rejects(async () => adapter().handleCallback(interactionRequest('[1]', keys)), failsWith('IMG_ERR_INBOUND_MALFORMED'));
  });

  it('stores a slash command as a message to the bot, acknowledged as deferred, its token kept out of the event', async () => {
    const id = snowflakeNow(3);
    const body = commandInteraction({ id });
    const outcome = await adapter().handleCallback(interactionRequest(body, keys));
    assert.equal(outcome.kind, 'events');
    assert.deepEqual(outcome.kind === 'events' && outcome.ack.body, { type: 5 });
    const event = onlyEvent(outcome);
    assert.equal(event.dedupKey, `interaction:${id}`);
    assert.equal(event.type, 'message');
    assert.equal(event.message.platformId, id);
    assert.equal(event.message.text, '/deploy env:prod');
    assert.equal(event.message.mentionsBot, true);
    assert.equal(event.message.createdAt, snowflakeTime(id));
    assert.deepEqual(event.message.content, {
      guildId: body.guild_id,
      interaction: { id, applicationId: APPLICATION_ID, commandId: '1300000000000000800', commandName: 'deploy', commandType: 1, targetId: null, options: [{ name: 'env', type: 3, value: 'prod' }] },
    });
    assert.deepEqual(event.sender, { id: ALICE.id, name: 'Ally', isSelf: false });
    assert.deepEqual(event.conversation, { id: GUILD_CHANNEL, type: 'group', name: 'general' });
    const { raw, ...shown } = event;
    assert.ok(!JSON.stringify(shown).includes(String(body.token)), 'the token is not in the event');
    assert.equal((raw as { token: string }).token, body.token, 'the stored payload keeps it for the reply');
    assert.equal((redactInteractionToken(raw) as { token: string }).token, '[redacted]');
  });

  it('reads a command used in a DM, from its user', async () => {
    const body = commandInteraction({ id: snowflakeNow(4), guild_id: undefined, member: undefined, user: BOB, channel_id: DM_CHANNEL, channel: { id: DM_CHANNEL, type: 1 } });
    const event = onlyEvent(await adapter().handleCallback(interactionRequest(body, keys)));
    assert.deepEqual(event.sender, { id: BOB.id, name: 'bob', isSelf: false });
    assert.deepEqual(event.conversation, { id: DM_CHANNEL, type: 'direct', name: null });
  });

  it('writes a command line with its subcommand group, subcommand and options', () => {
    const options = [{ name: 'release', type: 2, options: [{ name: 'cut', type: 1, options: [{ name: 'version', type: 3, value: '1.2' }, { name: 'dry', type: 5, value: true }] }] }];
    assert.equal(commandLine('ops', options), '/ops release cut version:1.2 dry:true');
    assert.equal(commandLine('ping', []), '/ping');
  });

  it('leaves payloads without an interaction token as they are', () => {
    const frame = { t: 'MESSAGE_CREATE', s: 1, d: { id: '1' } };
    assert.equal(redactInteractionToken(frame), frame);
  });
});
