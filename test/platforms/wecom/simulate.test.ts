import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as official from '@wecom/crypto';
import { parseXmlSafely } from '../../../src/platforms/_kit/xml.ts';
import { buildWecomSample } from '../../../src/platforms/wecom/index.ts';
import { WECOM_KEYS, wecomRequest } from '../../helpers/wecom.ts';
import { AGENT_ID, adapterFor, channel, onlyEvent } from './helpers.ts';

const now = new Date('2026-11-23T09:00:00.000Z');

function split(path: string): { pathname: string; query: URLSearchParams; rawQuery: string } {
  const [pathname = '', rawQuery = ''] = path.split('?');
  return { pathname, query: new URLSearchParams(rawQuery), rawQuery };
}

describe('wecom simulate', () => {
  it('builds a POST to the channel hook with a signed query and text/xml', () => {
    const sample = buildWecomSample(channel(), { now });
    const { pathname, query } = split(sample.path);
    assert.equal(pathname, '/hooks/wecom-main');
    assert.equal(sample.method, 'POST');
    assert.deepEqual(sample.headers, { 'content-type': 'text/xml' });
    assert.equal(query.get('timestamp'), String(now.getTime() / 1000));
    assert.match(query.get('nonce') ?? '', /^[0-9a-f]{16}$/);
  });

  it('is signed and encrypted so that @wecom/crypto verifies and decrypts it for the CorpID', () => {
    const sample = buildWecomSample(channel(), { text: 'ping', now });
    const { query } = split(sample.path);
    const encrypt = (parseXmlSafely(sample.body).xml as Record<string, string>).Encrypt ?? '';
    assert.equal(
      official.getSignature(WECOM_KEYS.token, query.get('timestamp')!, query.get('nonce')!, encrypt),
      query.get('msg_signature'),
    );
    const { message, id } = official.decrypt(WECOM_KEYS.encodingAESKey, encrypt);
    assert.equal(id, WECOM_KEYS.corpId);
    const inner = parseXmlSafely(message).xml as Record<string, string>;
    assert.equal(inner.MsgType, 'text');
    assert.equal(inner.Content, 'ping');
    assert.equal(inner.ToUserName, WECOM_KEYS.corpId);
    assert.equal(inner.AgentID, String(AGENT_ID));
    assert.equal(inner.CreateTime, String(now.getTime() / 1000));
    assert.match(inner.MsgId ?? '', /^\d{19}$/);
  });

  it('is accepted by the adapter as a text message, even with CDATA-breaking text', async () => {
    const config = channel();
    const text = 'a ]]> b <c> & d';
    const sample = buildWecomSample(config, { text, now });
    const req = wecomRequest({ rawQuery: split(sample.path).rawQuery, rawBody: Buffer.from(sample.body), headers: sample.headers, receivedAt: now });
    const event = onlyEvent(await adapterFor(config).handleCallback(req));
    assert.equal(event.message.type, 'text');
    assert.equal(event.message.text, text);
    assert.equal(event.conversation.type, 'direct');
    assert.equal(event.message.createdAt, now.toISOString());
  });

  it('draws a fresh MsgId for every sample', () => {
    const ids = new Set(
      Array.from({ length: 20 }, () => {
        const encrypt = (parseXmlSafely(buildWecomSample(channel()).body).xml as Record<string, string>).Encrypt ?? '';
        return (parseXmlSafely(official.decrypt(WECOM_KEYS.encodingAESKey, encrypt).message).xml as Record<string, string>).MsgId;
      }),
    );
    assert.equal(ids.size, 20);
  });
});
