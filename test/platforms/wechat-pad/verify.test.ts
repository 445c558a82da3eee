import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { ImgateError } from '../../../src/core/errors.ts';
import { PATH_TOKEN, RECEIVED_AT, SECRET, adapterFor, channel, fixture, request } from './helpers.ts';

const body = fixture('flat-private-text');
const nowSeconds = String(Math.floor(RECEIVED_AT.getTime() / 1000));

/** Computed here with node:crypto directly, independent of the adapter's code. */
function padSignature(timestamp: string, separator: ':' | '', secret = SECRET): string {
  return createHmac('sha256', secret).update(Buffer.concat([Buffer.from(timestamp + separator), body])).digest('hex');
}

function abotSignature(secret = SECRET): string {
  return 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
}

async function outcomeKind(config: Record<string, unknown>, headers: Record<string, string>, pathToken?: string) {
  const adapter = adapterFor(channel(config));
  const outcome = await adapter.handleCallback(request(body, { headers: { 'content-type': 'application/json', ...headers }, pathToken }));
  return outcome.kind;
}

async function rejectsWith(config: Record<string, unknown>, headers: Record<string, string>, code: string, pathToken?: string) {
  await assert.rejects(
    async () => outcomeKind(config, headers, pathToken),
    (error: unknown) => error instanceof ImgateError && error.code === code && error.status === 401,
  );
}

const signature = { auth: 'signature', secret: SECRET };

describe('wechat-pad authentication', () => {
  it('accepts HMAC over timestamp ":" body (signatureFormat colon, the webhook guide)', async () => {
    const headers = { 'x-webhook-timestamp': nowSeconds, 'x-webhook-signature': padSignature(nowSeconds, ':') };
    assert.equal(await outcomeKind(signature, headers), 'events');
  });

  it('accepts HMAC over timestamp + body (signatureFormat concat, WeChatPadPro client)', async () => {
    const headers = { 'x-webhook-timestamp': nowSeconds, 'x-webhook-signature': padSignature(nowSeconds, '') };
    assert.equal(await outcomeKind({ ...signature, signatureFormat: 'concat' }, headers), 'events');
  });

  it('rejects the colon signature when the channel expects concat', async () => {
    const headers = { 'x-webhook-timestamp': nowSeconds, 'x-webhook-signature': padSignature(nowSeconds, ':') };
    await rejectsWith({ ...signature, signatureFormat: 'concat' }, headers, 'IMG_ERR_INBOUND_BAD_SIGNATURE');
  });

  it('accepts an upper-case hex signature and a millisecond timestamp', async () => {
    const ms = String(RECEIVED_AT.getTime() - 2000);
    const headers = { 'x-webhook-timestamp': ms, 'x-webhook-signature': padSignature(ms, ':').toUpperCase() };
    assert.equal(await outcomeKind(signature, headers), 'events');
  });

  it('rejects a signature made with another secret', async () => {
    const headers = { 'x-webhook-timestamp': nowSeconds, 'x-webhook-signature': padSignature(nowSeconds, ':', 'other') };
    await rejectsWith(signature, headers, 'IMG_ERR_INBOUND_BAD_SIGNATURE');
  });

  it('rejects a signature without X-Webhook-Timestamp', async () => {
    await rejectsWith(signature, { 'x-webhook-signature': padSignature(nowSeconds, ':') }, 'IMG_ERR_INBOUND_BAD_SIGNATURE');
  });

  it('rejects a correctly signed but stale timestamp', async () => {
    const stale = String(Number(nowSeconds) - 301);
    const headers = { 'x-webhook-timestamp': stale, 'x-webhook-signature': padSignature(stale, ':') };
    await rejectsWith(signature, headers, 'IMG_ERR_INBOUND_STALE_TIMESTAMP');
  });

  it('honours timestampWindowSeconds', async () => {
    const old = String(Number(nowSeconds) - 500);
    const headers = { 'x-webhook-timestamp': old, 'x-webhook-signature': padSignature(old, ':') };
    assert.equal(await outcomeKind({ ...signature, timestampWindowSeconds: 600 }, headers), 'events');
  });

  it('accepts the OpenClaw wechat_abot signature over the raw body', async () => {
    assert.equal(await outcomeKind(signature, { 'x-wechat-abot-signature': abotSignature() }), 'events');
  });

  it('rejects a wrong wechat_abot signature', async () => {
    await rejectsWith(signature, { 'x-wechat-abot-signature': abotSignature('other') }, 'IMG_ERR_INBOUND_BAD_SIGNATURE');
    await rejectsWith(signature, { 'x-wechat-abot-signature': abotSignature().slice('sha256='.length) }, 'IMG_ERR_INBOUND_BAD_SIGNATURE');
  });

  it('rejects a request with no signature header at all', async () => {
    await rejectsWith(signature, {}, 'IMG_ERR_INBOUND_BAD_SIGNATURE');
  });

  it('rejects a bad signature before looking at the body', async () => {
    const adapter = adapterFor(channel(signature));
    await assert.rejects(
      async () => adapter.handleCallback(request('not json at all', { headers: { 'x-wechat-abot-signature': 'sha256=00' } })),
      (error: unknown) => error instanceof ImgateError && error.code === 'IMG_ERR_INBOUND_BAD_SIGNATURE',
    );
  });

  it('accepts the right path token and rejects a wrong or missing one', async () => {
    const config = { auth: 'path-token', pathToken: PATH_TOKEN };
    assert.equal(await outcomeKind(config, {}, PATH_TOKEN), 'events');
    await rejectsWith(config, {}, 'IMG_ERR_INBOUND_BAD_TOKEN', `${PATH_TOKEN}x`);
    await rejectsWith(config, {}, 'IMG_ERR_INBOUND_BAD_TOKEN', undefined);
  });

  it('accepts anything with auth none', async () => {
    assert.equal(await outcomeKind({ auth: 'none' }, {}), 'events');
  });
});
