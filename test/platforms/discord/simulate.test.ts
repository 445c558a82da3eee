import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyKey } from 'discord-interactions';
import { buildDiscordSample, createDiscordAdapter } from '../../../src/platforms/discord/index.ts';
import { DISCORD_SAMPLE_CHANNEL, DISCORD_SAMPLE_USER } from '../../../src/platforms/discord/simulate.ts';
import { testAdapterDeps } from '../../helpers/adapter-deps.ts';
import { testKeyPair } from '../../helpers/fake-discord.ts';
import { channel, onlyEvent } from './helpers.ts';

describe('discord simulate', () => {
  it('signs a slash command with the testPrivateKey so that discord-interactions and the channel accept it', async () => {
    const keys = testKeyPair();
    const config = channel({ publicKey: keys.publicKeyHex, testPrivateKey: keys.privateKeyHex, gateway: false });
    const sample = buildDiscordSample(config, { text: 'hi there' });
    assert.equal(sample.path, '/hooks/dc');
    assert.equal(await verifyKey(sample.body, sample.headers['x-signature-ed25519']!, sample.headers['x-signature-timestamp']!, keys.publicKeyHex), true);
    const outcome = await createDiscordAdapter(config, testAdapterDeps()).handleCallback({
      method: sample.method,
      headers: sample.headers,
      query: {},
      rawQuery: '',
      pathToken: undefined,
      rawBody: Buffer.from(sample.body, 'utf8'),
      receivedAt: new Date(),
    });
    const event = onlyEvent(outcome);
    assert.equal(event.message.text, '/imgate text:hi there');
    assert.deepEqual(event.conversation, { id: DISCORD_SAMPLE_CHANNEL, type: 'direct', name: null });
    assert.equal(event.sender.id, DISCORD_SAMPLE_USER);
    assert.ok(Math.abs(Date.parse(event.message.createdAt) - Date.now()) < 5_000, 'the interaction id is a snowflake of now');
  });

  it('refuses without a testPrivateKey, explaining that only Discord can sign for its key', () => {
    assert.throws(() => buildDiscordSample(channel({ publicKey: testKeyPair().publicKeyHex })), /no testPrivateKey\. Discord signs interactions with its own private key/);
  });
});
