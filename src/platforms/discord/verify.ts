import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { ImgateError } from '../../core/errors.ts';
import type { InboundRequest } from '../_kit/adapter.ts';
import { ed25519PrivateKey, ed25519PublicKey, rawEd25519PublicKey, timestampedMessage } from '../_kit/ed25519.ts';
import { requestHeader } from '../_kit/request-header.ts';

const SIGNATURE_HEX = /^[0-9a-fA-F]{128}$/;
/** Unix seconds, as Discord sends them: 1 to 12 digits. */
const TIMESTAMP = /^\d{1,12}$/;

/** The application's Public Key (64 hex characters, General Information) as a key node:crypto verifies with. */
export function discordPublicKey(hex: string): KeyObject {
  return ed25519PublicKey(Buffer.from(hex, 'hex'));
}

/** The public half of a raw Ed25519 private key (its 32-byte seed, hex), as hex. */
export function publicKeyHexOf(privateKeyHex: string): string {
  return rawEd25519PublicKey(createPublicKey(discordPrivateKey(privateKeyHex))).toString('hex');
}

function discordPrivateKey(hex: string): KeyObject {
  return ed25519PrivateKey(Buffer.from(hex, 'hex'));
}

/**
 * `X-Signature-Ed25519` for a body: hex(Ed25519(timestamp + rawBody)), what Discord sends and
 * `discord-interactions`' verifyKey checks. Only `imgate simulate` signs, with a test key.
 */
export function signDiscordInteraction(privateKeyHex: string, timestamp: string, rawBody: Buffer): string {
  return sign(null, timestampedMessage(timestamp, rawBody), discordPrivateKey(privateKeyHex)).toString('hex');
}

/**
 * Checks an interaction's `X-Signature-Ed25519` over `X-Signature-Timestamp` + the raw body with
 * the application's public key (Discord, "Security and Authorization": a failure must answer 401,
 * and Discord sends wrongly signed requests on purpose to test that), then the timestamp window:
 * the signature covers the timestamp, so a captured interaction cannot be replayed later than the
 * window with a new one. Ed25519 verification needs no constant-time compare of ours.
 */
export function verifyDiscordRequest(publicKey: KeyObject, timestampWindowSeconds: number, req: InboundRequest): void {
  const signature = requestHeader(req, 'x-signature-ed25519')?.trim();
  const timestamp = requestHeader(req, 'x-signature-timestamp')?.trim();
  if (!signature || !timestamp) {
    throw new ImgateError('IMG_ERR_INBOUND_BAD_SIGNATURE', { message: 'the X-Signature-Ed25519 and X-Signature-Timestamp headers are required' });
  }
  if (!SIGNATURE_HEX.test(signature) || !verify(null, timestampedMessage(timestamp, req.rawBody), publicKey, Buffer.from(signature, 'hex'))) {
    throw new ImgateError('IMG_ERR_INBOUND_BAD_SIGNATURE');
  }
  if (timestampWindowSeconds === 0) return;
  const sentAt = TIMESTAMP.test(timestamp) ? Number(timestamp) * 1000 : NaN;
  if (!Number.isFinite(sentAt) || Math.abs(req.receivedAt.getTime() - sentAt) > timestampWindowSeconds * 1000) {
    throw new ImgateError('IMG_ERR_INBOUND_STALE_TIMESTAMP');
  }
}
