import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WECOM_ACK } from '../../../src/platforms/_kit/wecom-callback.ts';
import { wecom } from '../../../src/platforms/wecom/index.ts';
import {
  WECOM_KEYS,
  WECOM_VECTOR as VECTOR,
  wecomCallback,
  wecomPost,
  wecomRequest,
  wecomUrlCheck,
  wecomVectorQuery,
} from '../../helpers/wecom.ts';
import { DECRYPTED, adapterFor, channel, onlyEvent } from './helpers.ts';

/** A channel for the official vector; its timestamp is from 2014, so the window is off. */
const vectorChannel = () =>
  channel({ corpId: VECTOR.corpId, token: VECTOR.token, encodingAESKey: VECTOR.encodingAESKey, timestampWindowSeconds: 0 });

describe('wecom callbacks', () => {
  describe('GET URL check', () => {
    it('answers the official vector with the decrypted echostr exactly, the echostr percent-encoded', async () => {
      const outcome = await adapterFor(vectorChannel()).handleCallback(
        wecomRequest({ method: 'GET', rawQuery: wecomVectorQuery(encodeURIComponent(VECTOR.echostr)) }),
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
      const outcome = await adapterFor(vectorChannel()).handleCallback(wecomRequest({ method: 'GET', rawQuery: wecomVectorQuery() }));
      assert.equal(outcome.kind === 'reply' && outcome.reply.body, VECTOR.message);
    });

    it('refuses the vector when the timestamp window is on (it is from 2014)', async () => {
      const adapter = adapterFor(channel({ corpId: VECTOR.corpId, token: VECTOR.token, encodingAESKey: VECTOR.encodingAESKey }));
      await assert.rejects(async () => adapter.handleCallback(wecomRequest({ method: 'GET', rawQuery: wecomVectorQuery() })), {
        code: 'IMG_ERR_INBOUND_STALE_TIMESTAMP',
      });
    });

    it('refuses the vector for another CorpID and with a wrong signature', async () => {
      const otherCorp = adapterFor(channel({ token: VECTOR.token, encodingAESKey: VECTOR.encodingAESKey, timestampWindowSeconds: 0 }));
      await assert.rejects(async () => otherCorp.handleCallback(wecomRequest({ method: 'GET', rawQuery: wecomVectorQuery() })), {
        code: 'IMG_ERR_INBOUND_BAD_SIGNATURE',
      });
      const tampered = wecomVectorQuery().replace(VECTOR.signature, `${VECTOR.signature.slice(0, -1)}0`);
      await assert.rejects(async () => adapterFor(vectorChannel()).handleCallback(wecomRequest({ method: 'GET', rawQuery: tampered })), {
        code: 'IMG_ERR_INBOUND_BAD_SIGNATURE',
      });
    });

    it('answers a fresh check encrypted by @wecom/crypto', async () => {
      const outcome = await adapterFor(channel()).handleCallback(wecomRequest({ method: 'GET', rawQuery: wecomUrlCheck('echo-123456') }));
      assert.equal(outcome.kind === 'reply' && outcome.reply.body, 'echo-123456');
    });

    it('refuses a GET without echostr', async () => {
      await assert.rejects(async () => adapterFor(channel()).handleCallback(wecomRequest({ method: 'GET', rawQuery: 'msg_signature=a&timestamp=1&nonce=2' })), {
        code: 'IMG_ERR_INBOUND_UNSUPPORTED',
      });
    });
  });

  describe('POST', () => {
    it('acknowledges a message with "success" and hands the encrypted request shape on for raw subscribers', async () => {
      const req = wecomPost(DECRYPTED.text);
      const outcome = await adapterFor(channel()).handleCallback(req);
      assert.equal(outcome.kind, 'events');
      assert.deepEqual(outcome.kind === 'events' && outcome.ack, WECOM_ACK);
      const event = onlyEvent(outcome);
      assert.deepEqual(event.rawRequest, { contentType: 'text/xml', query: req.rawQuery });
      assert.equal(event.message.text, 'this is a test');
    });

    it('refuses a callback encrypted for another corp', async () => {
      await assert.rejects(async () => adapterFor(channel()).handleCallback(wecomPost(DECRYPTED.text, { receiveId: 'ww_another_corp' })), {
        code: 'IMG_ERR_INBOUND_BAD_SIGNATURE',
      });
    });

    it('refuses a callback signed with another token', async () => {
      await assert.rejects(async () => adapterFor(channel()).handleCallback(wecomPost(DECRYPTED.text, { token: 'not-the-token' })), {
        code: 'IMG_ERR_INBOUND_BAD_SIGNATURE',
      });
    });

    it('refuses a callback whose timestamp is ten minutes old', async () => {
      const req = wecomPost(DECRYPTED.text, { timestamp: Math.floor(Date.now() / 1000) - 600 });
      await assert.rejects(async () => adapterFor(channel()).handleCallback(req), { code: 'IMG_ERR_INBOUND_STALE_TIMESTAMP' });
    });

    it('refuses a DOCTYPE in the outer body and in the decrypted message', async () => {
      const laughs =
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><xml><Encrypt>&lol2;</Encrypt></xml>';
      const { query } = wecomCallback(DECRYPTED.text);
      await assert.rejects(async () => adapterFor(channel()).handleCallback(wecomRequest({ rawQuery: query, rawBody: Buffer.from(laughs) })), {
        code: 'IMG_ERR_INBOUND_MALFORMED',
      });
      const xxe = `<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${DECRYPTED.text.replace('this is a test', '&xxe;')}`;
      await assert.rejects(async () => adapterFor(channel()).handleCallback(wecomPost(xxe)), { code: 'IMG_ERR_INBOUND_MALFORMED' });
    });

    it('reads <Encrypt> bare, as CDATA and with whitespace around and inside, and refuses one holding other than base64', async () => {
      const callback = wecomCallback(DECRYPTED.text);
      const encrypt = /<Encrypt><!\[CDATA\[([^\]]*)\]\]>/.exec(callback.body)![1]!;
      const spaced = `${encrypt.slice(0, 10)}\n  ${encrypt.slice(10)}`;
      for (const inner of [encrypt, ` \n<![CDATA[${spaced}]]>\n `, `\n${spaced}\n`]) {
        const req = wecomRequest({ rawQuery: callback.query, rawBody: Buffer.from(`<xml><Encrypt>${inner}</Encrypt></xml>`) });
        assert.equal((await adapterFor(channel()).handleCallback(req)).kind, 'events', inner);
      }
      const req = wecomRequest({ rawQuery: callback.query, rawBody: Buffer.from(`<xml><Encrypt><![CDATA[${encrypt}!]]></Encrypt></xml>`) });
      await assert.rejects(async () => adapterFor(channel()).handleCallback(req), { code: 'IMG_ERR_INBOUND_MALFORMED' });
    });

    it('refuses `<Encrypt>` followed by a megabyte of whitespace at once (the old pattern backtracked cubically: minutes)', async () => {
      const { query } = wecomCallback(DECRYPTED.text);
      for (const body of [`<Encrypt>${' '.repeat(1 << 20)}!`, `<Encrypt><![CDATA[${' '.repeat(1 << 20)}`, `<Encrypt>${'a'.repeat(1 << 20)}`]) {
        const started = Date.now();
        await assert.rejects(async () => adapterFor(channel()).handleCallback(wecomRequest({ rawQuery: query, rawBody: Buffer.from(body) })), { code: 'IMG_ERR_INBOUND_MALFORMED' });
        assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
      }
    });

    it('refuses a body without <Encrypt>', async () => {
      const { query } = wecomCallback(DECRYPTED.text);
      const req = wecomRequest({ rawQuery: query, rawBody: Buffer.from('<xml><ToUserName>x</ToUserName></xml>') });
      await assert.rejects(async () => adapterFor(channel()).handleCallback(req), { code: 'IMG_ERR_INBOUND_MALFORMED' });
    });
  });

  it('refuses methods other than GET and POST with IMG_ERR_INBOUND_METHOD', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      await assert.rejects(async () => adapterFor(channel()).handleCallback(wecomRequest({ method })), {
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
