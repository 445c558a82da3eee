import { describe } from 'node:test';
import fc from 'fast-check';
import { discord } from '../../src/platforms/discord/index.ts';
import { buildDiscordSample } from '../../src/platforms/discord/simulate.ts';
import { testAdapterDeps } from '../helpers/adapter-deps.ts';
import { commandInteraction, signedInteractionHeaders, testKeyPair } from '../helpers/fake-discord.ts';
import { channel } from '../platforms/discord/helpers.ts';
import { headerText, requestOfSample, shapedLike } from './arbitraries.ts';
import { describeCallbackProperties } from './callback-properties.ts';

/* Discord HTTP interactions (src/platforms/discord/callback.ts, verify.ts, interaction.ts). */

const keys = testKeyPair();
const config = channel({ gateway: false, publicKey: keys.publicKeyHex, testPrivateKey: keys.privateKeyHex });
const adapter = discord.create(config, testAdapterDeps());

const overrides = {
  type: fc.constantFrom(1, 2, 3, 4, 5, '2', null),
  options: fc.array(fc.record({ name: fc.string({ maxLength: 8 }), type: fc.constantFrom(1, 2, 3, 4, 5, '1'), value: fc.jsonValue({ maxDepth: 1 }), options: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] }), { maxLength: 3 }),
  id: fc.oneof(fc.constantFrom('1100000000000000001', '99999999999999999999', '0', '-1', ''), fc.bigInt({ min: 0n, max: 2n ** 70n }).map(String)),
};

describe('property: Discord interactions', () => {
  describeCallbackProperties('discord', {
    handle: (req) => adapter.handleCallback(req),
    sample: () => requestOfSample(buildDiscordSample(config)),
    parts: { headers: ['x-signature-ed25519', 'x-signature-timestamp', 'content-type'], timestamp: { header: 'x-signature-timestamp' } },
    // Ed25519 over X-Signature-Timestamp + raw body; both headers are read trimmed, the hex signature in either case.
    covered: (req) => [req.method, headerText(req.headers['x-signature-timestamp'])?.trim(), headerText(req.headers['x-signature-ed25519'])?.trim().toLowerCase(), req.rawBody.toString('base64')],
    shaped: shapedLike(commandInteraction(), overrides).map((payload) => {
      const body = JSON.stringify(payload) ?? 'null';
      return requestOfSample({ path: '/hooks/dc', method: 'POST', headers: signedInteractionHeaders(keys, body), body });
    }),
  });
});
