import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ImgateError } from '../../core/errors.ts';
import { signatureEquals } from '../_kit/timing-safe.ts';

/**
 * Feishu's event crypto (接收事件, decryption and signature check:
 * https://open.feishu.cn/document/ukTMukTMukTM/uYDNxYjL2QTM24iN0EjN/event-subscription-configure-/encrypt-key-encryption-configuration-case;
 * the official SDK's `utils/aes-cipher.ts` and `dispatcher/request-handle.ts`).
 * test/platforms/feishu/crypto.test.ts checks both against `@larksuiteoapi/node-sdk`.
 *
 * - Body `{"encrypt": base64}`: AES-256-CBC with key = sha256(utf8(encryptKey)); the first 16 bytes
 *   of the decoded data are the IV, the rest the ciphertext, standard PKCS#7 (16-byte blocks).
 * - `X-Lark-Signature` = hex sha256(timestamp + nonce + encryptKey + body), with the headers
 *   `X-Lark-Request-Timestamp` and `X-Lark-Request-Nonce`. Over the raw body, as the documentation
 *   says ("拼接…再拼接上请求的原始 body"): the SDK hashes `JSON.stringify` of the parsed body
 *   instead, which equals the raw body only when Feishu sends compact JSON.
 */

const BLOCK = 16;

function aesKey(encryptKey: string): Buffer {
  return createHash('sha256').update(encryptKey, 'utf8').digest();
}

/** The plaintext (JSON text) of an `encrypt` value; IMG_ERR_INBOUND_MALFORMED when it cannot be decrypted. */
export function decryptFeishuPayload(encryptKey: string, encrypt: string): string {
  const data = Buffer.from(encrypt, 'base64');
  if (data.length < 2 * BLOCK || data.length % BLOCK !== 0) {
    throw malformed('the encrypt value is not base64 of an IV and whole AES blocks');
  }
  try {
    const decipher = createDecipheriv('aes-256-cbc', aesKey(encryptKey), data.subarray(0, BLOCK));
    return Buffer.concat([decipher.update(data.subarray(BLOCK)), decipher.final()]).toString('utf8');
  } catch {
    // A wrong key almost always ends in bad padding; a right key never does.
    throw malformed('the encrypt value could not be decrypted: is encryptKey the app\'s Encrypt Key?');
  }
}

/** Encrypts as Feishu does (random IV first), for samples and tests. */
export function encryptFeishuPayload(encryptKey: string, plaintext: string, iv: Buffer = randomBytes(BLOCK)): string {
  const cipher = createCipheriv('aes-256-cbc', aesKey(encryptKey), iv);
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

/** hex sha256(timestamp + nonce + encryptKey + body). */
export function larkSignature(timestamp: string, nonce: string, encryptKey: string, body: Buffer | string): string {
  return createHash('sha256').update(`${timestamp}${nonce}${encryptKey}`, 'utf8').update(body).digest('hex');
}

export interface LarkSignatureHeaders {
  timestamp: string | undefined;
  nonce: string | undefined;
  signature: string | undefined;
}

/** Checks `X-Lark-Signature` over the raw body, in constant time; 401 IMG_ERR_INBOUND_BAD_SIGNATURE otherwise. */
export function verifyLarkSignature(encryptKey: string, headers: LarkSignatureHeaders, rawBody: Buffer): void {
  const { timestamp, nonce, signature } = headers;
  if (!timestamp || !nonce || !signature) {
    throw new ImgateError('IMG_ERR_INBOUND_BAD_SIGNATURE', {
      message: 'the event has no X-Lark-Signature, X-Lark-Request-Timestamp or X-Lark-Request-Nonce, which an app with an Encrypt Key always sends',
    });
  }
  if (!signatureEquals(signature.toLowerCase(), larkSignature(timestamp, nonce, encryptKey, rawBody))) {
    throw new ImgateError('IMG_ERR_INBOUND_BAD_SIGNATURE');
  }
}

function malformed(message: string): ImgateError {
  return new ImgateError('IMG_ERR_INBOUND_MALFORMED', { message });
}
