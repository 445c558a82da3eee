import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

/*
 * Raw 32-byte Ed25519 keys (QQ derives its from the bot secret, Discord shows its as hex) wrapped in
 * the DER node:crypto takes: PKCS#8 for a private key (the seed), SPKI for a public one (RFC 8410).
 */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function ed25519PrivateKey(seed: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export function ed25519PublicKey(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** The 32 raw bytes of a public key. */
export function rawEd25519PublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
}

/** What QQ and Discord sign: the timestamp header's bytes, then the raw body. */
export function timestampedMessage(timestamp: string, rawBody: Buffer): Buffer {
  return Buffer.concat([Buffer.from(timestamp, 'utf8'), rawBody]);
}
