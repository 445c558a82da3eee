import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { dingtalkSign, verifyDingtalkRequest } from '../../../src/platforms/dingtalk/verify.ts';
import { failsWith } from '../../helpers/errors.ts';
import { APP_SECRET, callbackBody, independentSign, request } from './helpers.ts';

const HOUR = 3600;

describe('dingtalkSign', () => {
  // Inputs from DingTalk's docs: the header example's timestamp (机器人接收消息) and the secret of its
  // signing sample code ("this is secret"). DingTalk prints no output for them; these two were
  // published by independent projects (found by code search) and reproduce with node:crypto.
  it('reproduces the published vectors for the documented example timestamp', () => {
    assert.equal(dingtalkSign('1577262236757', 'this is secret'), 'hmPWwU+7lVdm3ZZz0r9tSfx0L4Q26jWOZr9+Gs6EZQM=');
    assert.equal(dingtalkSign('1577262236757', 'this is a secret'), 'DJrE6qdyVGCQz9z5r2MDuNcNAhwYnuAkyj13cx169CA=');
  });

  it('is base64(HMAC-SHA256(appSecret, timestamp + "\\n" + appSecret)) for any secret and timestamp', () => {
    for (let i = 0; i < 20; i += 1) {
      const secret = randomBytes(24).toString('base64url');
      const timestamp = String(1_600_000_000_000 + i * 7_919);
      assert.equal(dingtalkSign(timestamp, secret), independentSign(timestamp, secret));
    }
  });
});

describe('verifyDingtalkRequest', () => {
  const body = callbackBody();

  it('accepts a callback signed with the appSecret within the hour', () => {
    assert.doesNotThrow(() => verifyDingtalkRequest(APP_SECRET, HOUR, request(body)));
    assert.doesNotThrow(() => verifyDingtalkRequest(APP_SECRET, HOUR, request(body, { timestamp: Date.now() - 3_599_000 })));
  });

  it('refuses a sign made with another secret as IMG_ERR_INBOUND_BAD_SIGNATURE (401)', () => {
    assert.throws(
      () => verifyDingtalkRequest(APP_SECRET, HOUR, request(body, { secret: 'someone-elses-secret' })),
      failsWith('IMG_ERR_INBOUND_BAD_SIGNATURE', (e) => assert.equal(e.status, 401)),
    );
  });

  it('refuses a sign of another length or shape without throwing anything else', () => {
    for (const sign of ['x', '', 'not base64 at all!!', `${independentSign(String(Date.now()), APP_SECRET)}AAAA`]) {
      const req = request(body);
      req.headers.sign = sign;
      assert.throws(() => verifyDingtalkRequest(APP_SECRET, HOUR, req), failsWith('IMG_ERR_INBOUND_BAD_SIGNATURE'));
    }
  });

  it('refuses a callback without timestamp or sign', () => {
    for (const name of ['timestamp', 'sign']) {
      const req = request(body);
      delete req.headers[name];
      assert.throws(() => verifyDingtalkRequest(APP_SECRET, HOUR, req), failsWith('IMG_ERR_INBOUND_BAD_SIGNATURE', (e) => assert.match(e.message, /required/)));
    }
  });

  it('refuses a correctly signed timestamp more than an hour off, either way, as IMG_ERR_INBOUND_STALE_TIMESTAMP (401)', () => {
    for (const timestamp of [Date.now() - 3_601_000, Date.now() + 3_601_000]) {
      assert.throws(
        () => verifyDingtalkRequest(APP_SECRET, HOUR, request(body, { timestamp })),
        failsWith('IMG_ERR_INBOUND_STALE_TIMESTAMP', (e) => assert.equal(e.status, 401)),
      );
    }
  });

  it('checks the sign before the clock: a stale timestamp with a wrong sign is a bad signature', () => {
    assert.throws(
      () => verifyDingtalkRequest(APP_SECRET, HOUR, request(body, { timestamp: Date.now() - 86_400_000, secret: 'wrong' })),
      failsWith('IMG_ERR_INBOUND_BAD_SIGNATURE'),
    );
  });

  it('refuses a signed timestamp that is not milliseconds as stale', () => {
    assert.throws(() => verifyDingtalkRequest(APP_SECRET, HOUR, request(body, { timestamp: 'yesterday' })), failsWith('IMG_ERR_INBOUND_STALE_TIMESTAMP'));
  });

  it('skips the window check with timestampWindowSeconds 0, but never the sign', () => {
    assert.doesNotThrow(() => verifyDingtalkRequest(APP_SECRET, 0, request(body, { timestamp: 1577262236757 })));
    assert.throws(() => verifyDingtalkRequest(APP_SECRET, 0, request(body, { timestamp: 1577262236757, secret: 'x' })), failsWith('IMG_ERR_INBOUND_BAD_SIGNATURE'));
  });
});
