import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ImgateError } from '../../core/errors.ts';
import { signatureEquals } from './timing-safe.ts';

/**
 * WeCom's callback crypto (WXBizMsgCrypt), https://developer.work.weixin.qq.com/document/path/90968:
 * AES-256-CBC with key = base64(EncodingAESKey + "="), IV = key[0:16], PKCS#7 padding to a multiple
 * of 32 (so pad bytes run 1–32, and Node's own unpadding, which stops at 16, cannot be used), and
 * plaintext = 16 random bytes ‖ uint32BE(length) ‖ message ‖ receiveid. Written by hand because the
 * official `@wecom/crypto` only does the primitives, without the receiveid and signature checks a
 * gateway needs; test/platforms/_kit/wecom-crypto.test.ts checks both directions against it.
 */

const BLOCK = 32;

export function decodeEncodingAESKey(encodingAESKey: string): Buffer {
  const key = Buffer.from(`${encodingAESKey}=`, 'base64');
  if (encodingAESKey.length !== 43 || key.length !== 32) {
    throw new Error('an EncodingAESKey is 43 characters that decode to 32 bytes');
  }
  return key;
}

/** msg_signature: lowercase hex sha1 of the four values sorted as strings and joined. */
export function wecomSignature(token: string, timestamp: string, nonce: string, encrypt: string): string {
  return createHash('sha1').update([token, timestamp, nonce, encrypt].sort().join('')).digest('hex');
}

export function verifyWecomSignature(
  token: string,
  query: { msg_signature?: string; timestamp?: string; nonce?: string },
  encrypt: string,
): void {
  const { msg_signature: signature, timestamp, nonce } = query;
  if (!signature || !timestamp || !nonce || !signatureEquals(signature.toLowerCase(), wecomSignature(token, timestamp, nonce, encrypt))) {
    throw new ImgateError('IMG_ERR_INBOUND_BAD_SIGNATURE');
  }
}

/** Decrypts `encrypt` and checks its receiveid (the CorpID for apps and customer service). */
export function decryptWecomMessage(key: Buffer, encrypt: string, expectedReceiveId: string | null): string {
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
    decipher.setAutoPadding(false);
    plain = Buffer.concat([decipher.update(Buffer.from(encrypt, 'base64')), decipher.final()]);
  } catch {
    throw malformed('the ciphertext could not be decrypted');
  }
  const pad = plain[plain.length - 1] ?? 0;
  if (pad < 1 || pad > BLOCK || plain.length < 20 + pad) throw malformed('the ciphertext has bad padding');
  const body = plain.subarray(16, plain.length - pad);
  const length = body.readUInt32BE(0);
  if (4 + length > body.length) throw malformed('the ciphertext has a bad length');
  const receiveId = body.subarray(4 + length).toString('utf8');
  if (expectedReceiveId !== null && receiveId !== expectedReceiveId) {
    throw new ImgateError('IMG_ERR_INBOUND_BAD_SIGNATURE', { message: 'the message is for another receiver' });
  }
  return body.subarray(4, 4 + length).toString('utf8');
}

export function encryptWecomMessage(key: Buffer, message: string, receiveId: string, random: Buffer = randomBytes(16)): string {
  const text = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(text.length, 0);
  const unpadded = Buffer.concat([random, length, text, Buffer.from(receiveId, 'utf8')]);
  const pad = BLOCK - (unpadded.length % BLOCK);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(Buffer.concat([unpadded, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64');
}

function malformed(message: string): ImgateError {
  return new ImgateError('IMG_ERR_INBOUND_MALFORMED', { message });
}
