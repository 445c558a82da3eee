import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ImgateError } from './errors.ts';

/** The environment variable holding the key that seals secrets imgate keeps in its store. */
export const SECRET_KEY_VARIABLE = 'IMGATE_SECRET_KEY';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** A version prefix, so a later format or key rotation can tell sealed values apart. */
const FORMAT = 'v1';

/**
 * Seals and opens secrets kept in the store (a login's bot token) with AES-256-GCM from node:crypto:
 * a random 96-bit IV per value and the 128-bit tag, so a value altered in the store fails to open
 * instead of yielding garbage. Sealed form: `v1.<iv>.<tag>.<ciphertext>`, each part base64url.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /**
   * The box for `IMGATE_SECRET_KEY` (32 bytes, base64); without a valid key, an error that says how
   * to make one.
   */
  static fromEnvironment(env: NodeJS.ProcessEnv = process.env): SecretBox {
    const encoded = env[SECRET_KEY_VARIABLE]?.trim() ?? '';
    const key = Buffer.from(encoded, 'base64');
    if (encoded === '' || key.length !== KEY_BYTES) {
      throw new ImgateError('IMG_ERR_SECRET_KEY_MISSING', {
        message: `${encoded === '' ? `${SECRET_KEY_VARIABLE} is not set` : `${SECRET_KEY_VARIABLE} is not 32 bytes in base64`}: the gateway keeps the login encrypted with it. Make one with \`openssl rand -base64 32\`, set it in the gateway's environment (the same on every node) and keep it safe`,
      });
    }
    return new SecretBox(key);
  }

  seal(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [FORMAT, iv, cipher.getAuthTag(), ciphertext].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
  }

  /** The plaintext of a sealed value; an error when it was sealed with another key or altered. */
  open(sealed: string): string {
    const [format, iv, tag, ciphertext] = sealed.split('.');
    if (format !== FORMAT || iv === undefined || tag === undefined || ciphertext === undefined) throw unreadable();
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw unreadable();
    }
  }
}

function unreadable(): ImgateError {
  return new ImgateError('IMG_ERR_SECRET_KEY_MISSING', {
    message: `a secret in the store does not open with this ${SECRET_KEY_VARIABLE}: it was sealed with another key (log in again) or altered`,
  });
}
