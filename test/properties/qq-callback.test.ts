import { describe } from 'node:test';
import fc from 'fast-check';
import { qq } from '../../src/platforms/qq/index.ts';
import { buildQqSample } from '../../src/platforms/qq/simulate.ts';
import { testAdapterDeps } from '../helpers/adapter-deps.ts';
import { channel, dispatch, signedHeaders } from '../platforms/qq/helpers.ts';
import { headerText, requestOfSample, shapedLike } from './arbitraries.ts';
import { describeCallbackProperties } from './callback-properties.ts';

/* QQ bots in webhook mode (src/platforms/qq/callback.ts, signature.ts, normalize.ts). */

const config = channel();
const adapter = qq.create(config, testAdapterDeps());

const overrides = {
  t: fc.constantFrom('C2C_MESSAGE_CREATE', 'GROUP_AT_MESSAGE_CREATE', 'AT_MESSAGE_CREATE', 'DIRECT_MESSAGE_CREATE', 'MESSAGE_CREATE', 'READY', 'x'),
  op: fc.constantFrom(0, 13, 12, '0', null),
  attachments: fc.array(fc.record({ content_type: fc.constantFrom('image/png', 'file', ''), url: fc.constantFrom('https://x/a.png', 'x', ''), filename: fc.string() }, { requiredKeys: [] }), { maxLength: 2 }),
};

describe('property: QQ webhook callbacks', () => {
  describeCallbackProperties('qq', {
    handle: (req) => adapter.handleCallback(req),
    sample: () => requestOfSample(buildQqSample(config, { group: true })),
    parts: { headers: ['x-signature-ed25519', 'x-signature-timestamp', 'x-bot-appid', 'content-type'], timestamp: { header: 'x-signature-timestamp' } },
    // Ed25519 over X-Signature-Timestamp ‖ raw body (sign.md); the hex signature is read trimmed, in either case.
    covered: (req) => [req.method, headerText(req.headers['x-signature-timestamp']), headerText(req.headers['x-signature-ed25519'])?.trim().toLowerCase(), req.rawBody.toString('base64')],
    shaped: fc
      .oneof(shapedLike(dispatch('C2C_MESSAGE_CREATE'), overrides), shapedLike(dispatch('AT_MESSAGE_CREATE'), overrides), shapedLike(dispatch('GROUP_AT_MESSAGE_CREATE'), overrides))
      .map((payload) => {
        const body = JSON.stringify(payload) ?? 'null';
        return requestOfSample({ path: '/hooks/qq', method: 'POST', headers: signedHeaders(body), body });
      }),
  });
});
