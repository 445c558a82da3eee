import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../src/config/load.ts';
import { discord } from '../../../src/platforms/discord/index.ts';
import { intentBitfield } from '../../../src/platforms/discord/intents.ts';
import { BOT_TOKEN, testKeyPair } from '../../helpers/fake-discord.ts';
import { channel } from './helpers.ts';

function configError(overrides: Record<string, unknown>): string {
  try {
    parseConfig({ admin: { token: 'example-admin-token-0123' }, channels: [{ id: 'dc', platform: 'discord', token: BOT_TOKEN, ...overrides }] }, 'test');
  } catch (error) {
    return (error as Error).message;
  }
  return assert.fail('the config was accepted');
}

describe('discord config', () => {
  it('asks by default for guild and direct messages with their content', () => {
    const config = channel();
    assert.deepEqual(config.intents, ['GUILDS', 'GUILD_MESSAGES', 'DIRECT_MESSAGES', 'MESSAGE_CONTENT']);
    assert.equal(intentBitfield(config.intents), 1 | (1 << 9) | (1 << 12) | (1 << 15));
    assert.equal(config.gateway, true);
    assert.equal(config.rateLimit.maxWaitSeconds, 5);
  });

  it('takes intents as names from Discord\'s docs or as a bitfield, also from an environment variable', () => {
    assert.equal(intentBitfield(channel({ intents: ['GUILD_MESSAGE_REACTIONS', 'DIRECT_MESSAGES'] }).intents), (1 << 10) | (1 << 12));
    assert.equal(intentBitfield(channel({ intents: 33281 }).intents), 33281);
    assert.equal(intentBitfield(channel({ intents: '33281' }).intents), 33281);
  });

  it('names an unknown intent, and what a malformed key should look like', () => {
    assert.match(configError({ intents: ['GUILDS', 'MESSAGES'] }), /intents: unknown intent MESSAGES; the names are GUILDS, GUILD_MEMBERS/);
    assert.match(configError({ publicKey: 'not-hex' }), /publicKey: the 64 hex characters of the Public Key/);
    assert.match(configError({ gatewayUrl: 'https://gateway.discord.gg' }), /gatewayUrl/);
    assert.ok(!configError({ publicKey: 'not-hex' }).includes(BOT_TOKEN));
  });

  it('warns when guild messages would come without text, and when the channel can receive nothing', () => {
    const warn = (overrides: Record<string, unknown>) => discord.startupWarnings!(channel(overrides)).join('\n');
    assert.equal(warn({}), '');
    assert.match(warn({ intents: ['GUILD_MESSAGES'] }), /MESSAGE_CONTENT/);
    assert.match(warn({ gateway: false }), /receives nothing/);
    assert.equal(warn({ gateway: false, intents: ['GUILD_MESSAGES'], publicKey: testKeyPair().publicKeyHex }), '', 'intents do not matter without the Gateway');
  });

  it('warns about a testPrivateKey, and says when it does not belong to the publicKey', () => {
    const keys = testKeyPair();
    const warn = (overrides: Record<string, unknown>) => discord.startupWarnings!(channel(overrides)).join('\n');
    assert.match(warn({ publicKey: keys.publicKeyHex, testPrivateKey: keys.privateKeyHex }), /your test key pair, not Discord's/);
    assert.match(warn({ publicKey: testKeyPair().publicKeyHex, testPrivateKey: keys.privateKeyHex }), /not its publicKey/);
  });
});
