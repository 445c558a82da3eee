import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WECOM_ACK } from '../../../src/platforms/_kit/wecom-callback.ts';
import { wecom } from '../../../src/platforms/wecom/index.ts';
import { WECOM_KEYS, wecomCallback, wecomUrlCheck } from '../../helpers/wecom.ts';
import { DECRYPTED, adapterFor, channel, onlyEvent, postOf, request } from './helpers.ts';

// The official sample (https://developer.work.weixin.qq.com/document/path/90968, PLATFORMS.md §1).
const VECTOR = {
  token: 'QDG6eK',
  encodingAESKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  timestamp: '1409659589',
  nonce: '263014780',
  echostr: 'P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==',
  signature: '5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3',
  message: '1616140317555161061',
  corpId: 'wx5823bf96d3bd56c7',
};

/** A channel for the official vector; its timestamp is from 2014, so the window is off. */
const vectorChannel = () =>
  channel({ corpId: VECTOR.corpId, token: VECTOR.token, encodingAESKey: VECTOR.encodingAESKey, timestampWindowSeconds: 0 });

const vectorQuery = (echostr: string) =>
  `msg_signature=${VECTOR.signature}&timestamp=${VECTOR.timestamp}&nonce=${VECTOR.nonce}&echostr=${echostr}`;

describe('wecom callbacks', () => {
  describe('GET URL check', () => {
    it('answers the official vector with the decrypted echostr exactly, the echostr percent-encoded', async () => {
      const outcome = await adapterFor(vectorChannel()).handleCallback(
        request({ method: 'GET', rawQuery: vectorQuery(encodeURIComponent(VECTOR.echostr)) }),
      );
      assert.equal(outcome.kind, 'reply');
      assert.deepEqual(outcome.kind === 'reply' && outcome.reply, {
        status: 200,
        contentType: 'text/plain; charset=utf-8',
        body: VECTOR.message,
      });
    });

    it('answers the official vector with a literal + and / in the raw query (not read as a space)', async () => {
      assert.ok(VECTOR.echostr.includes('+'));
      const outcome = await adapterFor(vectorChannel()).handleCallback(request({ method: 'GET', rawQuery: vectorQuery(VECTOR.echostr) }));
      assert.equal(outcome.kind === 'reply' && outcome.reply.body, VECTOR.message);
    });

    it('refuses the vector when the timestamp window is on (it is from 2014)', async () => {
      const adapter = adapterFor(channel({ corpId: VECTOR.corpId, token: VECTOR.token, encodingAESKey: VECTOR.encodingAESKey }));
      await assert.rejects(async () => adapter.handleCallback(request({ method: 'GET', rawQuery: vectorQuery(VECTOR.echostr) })), {
        code: 'IMG_ERR_INBOUND_STALE_TIMESTAMP',
      });
    });

    it('refuses the vector for another CorpID and with a wrong signature', async () => {
      const otherCorp = adapterFor(channel({ token: VECTOR.token, encodingAESKey: VECTOR.encodingAESKey, timestampWindowSeconds: 0 }));
      await assert.rejects(async () => otherCorp.handleCallback(request({ method: 'GET', rawQuery: vectorQuery(VECTOR.echostr) })), {
        code: 'IMG_ERR_INBOUND_BAD_SIGNATURE',
      });
      const tampered = vectorQuery(VECTOR.echostr).replace(VECTOR.signature, `${VECTOR.signature.slice(0, -1)}0`);
      await assert.rejects(async () => adapterFor(vectorChannel()).handleCallback(request({ method: 'GET', rawQuery: tampered })), {
        code: 'IMG_ERR_INBOUND_BAD_SIGNATURE',
      });
    });

    it('answers a fresh check encrypted by @wecom/crypto', async () => {
      const outcome = await adapterFor(channel()).handleCallback(request({ method: 'GET', rawQuery: wecomUrlCheck('echo-123456') }));
      assert.equal(outcome.kind === 'reply' && outcome.reply.body, 'echo-123456');
    });

    it('refuses a GET without echostr', async () => {
      await assert.rejects(async () => adapterFor(channel()).handleCallback(request({ method: 'GET', rawQuery: 'msg_signature=a&timestamp=1&nonce=2' })), {
        code: 'IMG_ERR_INBOUND_UNSUPPORTED',
      });
    });
  });

  describe('POST', () => {
    it('acknowledges a message with "success" and hands the encrypted request shape on for raw subscribers', async () => {
      const req = postOf(DECRYPTED.text);
      const outcome = await adapterFor(channel()).handleCallback(req);
      assert.equal(outcome.kind, 'events');
      assert.deepEqual(outcome.kind === 'events' && outcome.ack, WECOM_ACK);
      const event = onlyEvent(outcome);
      assert.deepEqual(event.rawRequest, { contentType: 'text/xml', query: req.rawQuery });
      assert.equal(event.message.text, 'this is a test');
    });

    it('refuses a callback encrypted for another corp', async () => {
      await assert.rejects(async () => adapterFor(channel()).handleCallback(postOf(DECRYPTED.text, { receiveId: 'ww_another_corp' })), {
        code: 'IMG_ERR_INBOUND_BAD_SIGNATURE',
      });
    });

    it('refuses a callback signed with another token', async () => {
      await assert.rejects(async () => adapterFor(channel()).handleCallback(postOf(DECRYPTED.text, { token: 'not-the-token' })), {
        code: 'IMG_ERR_INBOUND_BAD_SIGNATURE',
      });
    });

    it('refuses a callback whose timestamp is ten minutes old', async () => {
      const req = postOf(DECRYPTED.text, { timestamp: Math.floor(Date.now() / 1000) - 600 });
      await assert.rejects(async () => adapterFor(channel()).handleCallback(req), { code: 'IMG_ERR_INBOUND_STALE_TIMESTAMP' });
    });

    it('refuses a DOCTYPE in the outer body and in the decrypted message', async () => {
      const laughs =
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><xml><Encrypt>&lol2;</Encrypt></xml>';
      const { query } = wecomCallback(DECRYPTED.text);
      await assert.rejects(async () => adapterFor(channel()).handleCallback(request({ rawQuery: query, rawBody: Buffer.from(laughs) })), {
        code: 'IMG_ERR_INBOUND_MALFORMED',
      });
      const xxe = `<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${DECRYPTED.text.replace('this is a test', '&xxe;')}`;
      await assert.rejects(async () => adapterFor(channel()).handleCallback(postOf(xxe)), { code: 'IMG_ERR_INBOUND_MALFORMED' });
    });

    it('refuses a body without <Encrypt>', async () => {
      const { query } = wecomCallback(DECRYPTED.text);
      const req = request({ rawQuery: query, rawBody: Buffer.from('<xml><ToUserName>x</ToUserName></xml>') });
      await assert.rejects(async () => adapterFor(channel()).handleCallback(req), { code: 'IMG_ERR_INBOUND_MALFORMED' });
    });
  });

  it('refuses methods other than GET and POST with IMG_ERR_INBOUND_METHOD', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      await assert.rejects(async () => adapterFor(channel()).handleCallback(request({ method })), {
        code: 'IMG_ERR_INBOUND_METHOD',
      });
    }
  });

  describe('config', () => {
    it('reads agentId written as text (from ${VAR}) as a number and refuses a non-positive one', () => {
      assert.equal(channel({ agentId: '1000005' }).agentId, 1000005);
      assert.throws(() => channel({ agentId: 0 }));
      assert.throws(() => channel({ agentId: 'abc' }));
    });

    it('requires the callback and credential keys and a 43-character EncodingAESKey', () => {
      for (const key of ['corpId', 'corpSecret', 'token', 'encodingAESKey']) {
        assert.throws(() => channel({ [key]: undefined }), Error, key);
      }
      assert.throws(() => channel({ encodingAESKey: WECOM_KEYS.encodingAESKey.slice(1) }));
    });

    it('warns at start only when agentId is missing (the channel cannot send)', () => {
      assert.deepEqual(wecom.startupWarnings?.(channel()), []);
      const warnings = wecom.startupWarnings?.(channel({ agentId: undefined })) ?? [];
      assert.equal(warnings.length, 1);
      assert.match(warnings[0] ?? '', /"wecom-main".*agentId/);
    });
  });
});
