import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as official from '@wecom/crypto';
import { parseXmlSafely } from '../../../src/platforms/_kit/xml.ts';
import { buildWecomKfSample, createWecomKfAdapter } from '../../../src/platforms/wecom-kf/index.ts';
import { testAdapterDeps } from '../../helpers/adapter-deps.ts';
import { WECOM_KEYS, wecomRequest } from '../../helpers/wecom.ts';
import { OPEN_KFID, channel } from './helpers.ts';

describe('wecom-kf simulate', () => {
  const now = new Date('2026-11-23T09:00:00Z');

  it('builds a kf_msg_or_event notice that the official @wecom/crypto verifies and decrypts', () => {
    const sample = buildWecomKfSample(channel(), { openKfId: OPEN_KFID, token: 'ENCsampleToken', now });
    const url = new URL(sample.path, 'http://x');
    assert.equal(url.pathname, '/hooks/kf-main');
    assert.equal(sample.method, 'POST');
    const query = Object.fromEntries(url.searchParams);
    assert.equal(query.timestamp, String(now.getTime() / 1000));
    const encrypt = (parseXmlSafely(sample.body).xml as Record<string, string>).Encrypt!;
    assert.equal(official.getSignature(WECOM_KEYS.token, query.timestamp!, query.nonce!, encrypt), query.msg_signature);
    const { message, id } = official.decrypt(WECOM_KEYS.encodingAESKey, encrypt);
    assert.equal(id, WECOM_KEYS.corpId);
    assert.deepEqual(parseXmlSafely(message).xml, {
      ToUserName: WECOM_KEYS.corpId,
      CreateTime: String(now.getTime() / 1000),
      MsgType: 'event',
      Event: 'kf_msg_or_event',
      Token: 'ENCsampleToken',
      OpenKfId: OPEN_KFID,
    });
  });

  it('is taken by the channel it was built for', async () => {
    const sample = buildWecomKfSample(channel(), { openKfId: OPEN_KFID });
    const adapter = createWecomKfAdapter(channel({ apiBase: 'http://127.0.0.1:9' }), testAdapterDeps());
    const outcome = await adapter.handleCallback(
      wecomRequest({ rawQuery: sample.path.split('?')[1]!, rawBody: Buffer.from(sample.body), headers: sample.headers }),
    );
    assert.equal(outcome.kind, 'reply');
  });
});
