import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { ImgateError } from '../../core/errors.ts';
import type { InboundRequest } from '../_kit/adapter.ts';

/** The DER prefixes that wrap a raw 32-byte Ed25519 key as SPKI (public) and PKCS#8 (private, the seed). */
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SIGNATURE_HEX = /^[0-9a-fA-F]{128}$/;
/** Unix seconds, as Discord sends them: 1 to 12 digits. */
const TIMESTAMP = /^\d{1,12}$/;

/** The application's Public Key (64 hex characters, General Information) as a key node:crypto verifies with. */
export function discordPublicKey(hex: string): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, Buffer.from(hex, 'hex')]), format: 'der', type: 'spki' });
}

/** The public half of a raw Ed25519 private key (its 32-byte seed, hex), as hex. */
export function publicKeyHexOf(privateKeyHex: string): string {
  const der = createPublicKey(discordPrivateKey(privateKeyHex)).export({ format: 'der', type: 'spki' });
  return der.subarray(SPKI_ED25519_PREFIX.length).toString('hex');
}

function discordPrivateKey(hex: string): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, Buffer.from(hex, 'hex')]), format: 'der', type: 'pkcs8' });
}

/**
 * `X-Signature-Ed25519` for a body: hex(Ed25519(timestamp + rawBody)), what Discord sends and
 * `discord-interactions`' verifyKey checks. Only `imgate simulate` signs, with a test key.
 */
export function signDiscordInteraction(privateKeyHex: string, timestamp: string, rawBody: Buffer): string {
  return sign(null, Buffer.concat([Buffer.from(timestamp, 'utf8'), rawBody]), discordPrivateKey(privateKeyHex)).toString('hex');
}

/**
 * Checks an interaction's `X-Signature-Ed25519` over `X-Signature-Timestamp` + the raw body with
 * the application's public key (Discord, "Security and Authorization": a failure must answer 401,
 * and Discord sends wrongly signed requests on purpose to test that), then the timestamp window:
 * the signature covers the timestamp, so a captured interaction cannot be replayed later than the
 * window with a new one. Ed25519 verification needs no constant-time compare of ours.
 */
export function verifyDiscordRequest(publicKey: KeyObject, timestampWindowSeconds: number, req: InboundRequest): void {
  const signature = header(req, 'x-signature-ed25519')?.trim();
  const timestamp = header(req, 'x-signature-timestamp')?.trim();
  if (!signature || !timestamp) {
    throw new ImgateError('IMG_ERR_INBOUND_BAD_SIGNATURE', { message: 'the X-Signature-Ed25519 and X-Signature-Timestamp headers are required' });
  }
  const signed = Buffer.concat([Buffer.from(timestamp, 'utf8'), req.rawBody]);
  if (!SIGNATURE_HEX.test(signature) || !verify(null, signed, publicKey, Buffer.from(signature, 'hex'))) {
    throw new ImgateError('IMG_ERR_INBOUND_BAD_SIGNATURE');
  }
  if (timestampWindowSeconds === 0) return;
  const sentAt = TIMESTAMP.test(timestamp) ? Number(timestamp) * 1000 : NaN;
  if (!Number.isFinite(sentAt) || Math.abs(req.receivedAt.getTime() - sentAt) > timestampWindowSeconds * 1000) {
    throw new ImgateError('IMG_ERR_INBOUND_STALE_TIMESTAMP');
  }
}

function header(req: InboundRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
