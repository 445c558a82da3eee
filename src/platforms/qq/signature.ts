import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { ed25519PrivateKey, timestampedMessage } from '../_kit/ed25519.ts';

const SEED_BYTES = 32;
const SIGNATURE_BYTES = 64;
const HEX = /^[0-9a-fA-F]*$/;

interface QqKeys {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** Derived once per secret: a key pair costs far more than a signature check. */
const keysBySecret = new Map<string, QqKeys>();

/**
 * The bot's Ed25519 key pair (sign.md, "签名验证参数"): the seed is the secret's bytes repeated until
 * there are at least 32, cut to 32 (QQ's Go sample doubles the string, which gives the same bytes).
 */
export function qqKeys(secret: string): QqKeys {
  let keys = keysBySecret.get(secret);
  if (keys === undefined) {
    const bytes = Buffer.from(secret, 'utf8');
    if (bytes.length === 0) throw new Error('the QQ bot secret is empty');
    const seed = Buffer.alloc(SEED_BYTES);
    for (let i = 0; i < SEED_BYTES; i += 1) seed[i] = bytes[i % bytes.length] as number;
    const privateKey = ed25519PrivateKey(seed);
    keys = { privateKey, publicKey: createPublicKey(privateKey) };
    keysBySecret.set(secret, keys);
  }
  return keys;
}

/** hex(Ed25519 signature) of `message` with the bot's key: op 13 answers and simulated callbacks. */
export function qqSign(secret: string, message: Buffer | string): string {
  return sign(null, Buffer.isBuffer(message) ? message : Buffer.from(message, 'utf8'), qqKeys(secret).privateKey).toString('hex');
}

/**
 * Whether `signatureHex` (`X-Signature-Ed25519`) signs `timestamp` (`X-Signature-Timestamp`) followed by
 * the raw body with the bot's key (sign.md, "验证签名过程"). As QQ's sample does, a signature that is not
 * 64 bytes or whose last byte has any of its top three bits set is refused before the curve math.
 */
export function verifyQqSignature(secret: string, timestamp: string, rawBody: Buffer, signatureHex: string): boolean {
  if (!HEX.test(signatureHex) || signatureHex.length !== SIGNATURE_BYTES * 2) return false;
  const signature = Buffer.from(signatureHex, 'hex');
  if (((signature[SIGNATURE_BYTES - 1] as number) & 0xe0) !== 0) return false;
  return verify(null, timestampedMessage(timestamp, rawBody), qqKeys(secret).publicKey, signature);
}
