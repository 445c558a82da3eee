import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ImgateError } from '../../src/core/errors.ts';
import { SecretBox } from '../../src/core/secret-box.ts';

const key = () => randomBytes(32).toString('base64');

describe('SecretBox (AES-256-GCM with IMGATE_SECRET_KEY)', () => {
  it('opens what it sealed, and seals the same text differently each time', () => {
    const box = SecretBox.fromEnvironment({ IMGATE_SECRET_KEY: key() });
    const first = box.seal('bot-token-123');
    assert.notEqual(first, box.seal('bot-token-123'));
    assert.ok(!first.includes('bot-token-123'));
    assert.equal(box.open(first), 'bot-token-123');
  });

  it('refuses a value altered in the store or sealed with another key', () => {
    const secret = key();
    const sealed = SecretBox.fromEnvironment({ IMGATE_SECRET_KEY: secret }).seal('bot-token-123');
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = (body[0] ?? 0) ^ 1;
    const altered = [...parts.slice(0, 3), body.toString('base64url')].join('.');
    assert.throws(() => SecretBox.fromEnvironment({ IMGATE_SECRET_KEY: secret }).open(altered), (error: unknown) => error instanceof ImgateError && error.code === 'IMG_ERR_SECRET_KEY_MISSING');
    assert.throws(() => SecretBox.fromEnvironment({ IMGATE_SECRET_KEY: key() }).open(sealed), /sealed with another key/);
  });

  it('without a key, or with one that is not 32 bytes, says how to make one', () => {
    assert.throws(() => SecretBox.fromEnvironment({}), /IMGATE_SECRET_KEY is not set.*openssl rand -base64 32/);
    assert.throws(() => SecretBox.fromEnvironment({ IMGATE_SECRET_KEY: randomBytes(16).toString('base64') }), /not 32 bytes in base64.*openssl rand -base64 32/);
  });
});
