import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { ImgateError } from '../../core/errors.ts';
import { scalarText } from '../_kit/payload-values.ts';
import { request } from 'undici';
import { callIlink } from './api.ts';
import { trimBase } from './config.ts';

/** `media_type` of getuploadurl (`UploadMediaType` in the official `src/api/types.ts`). */
export const UPLOAD_IMAGE = 1;

export interface UploadTarget {
  apiBase: string;
  cdnBase: string;
  token: string;
  toUserId: string;
}

/** Where an uploaded file is, for an `image_item`/`file_item` of sendmessage. */
export interface UploadedMedia {
  encryptQueryParam: string;
  /** The AES-128 key as the official client sends it: base64 of its 32 hex characters. */
  aesKey: string;
  /** Size of the ciphertext (`mid_size` of an image item). */
  cipherSize: number;
}

/**
 * The upload of the official client (`src/cdn/upload.ts`, `src/cdn/cdn-upload.ts`): a random
 * 16-byte key and file key, `getuploadurl` with the plaintext's size and MD5 and the ciphertext's
 * size, then the AES-128-ECB (PKCS#7) ciphertext posted to the CDN (`upload_full_url`, else
 * `<cdnBase>/upload?encrypted_query_param=…&filekey=…`), whose `x-encrypted-param` answer header
 * is the download reference.
 */
export async function uploadToCdn(target: UploadTarget, bytes: Buffer, mediaType: number): Promise<UploadedMedia> {
  const key = randomBytes(16);
  const filekey = randomBytes(16).toString('hex');
  const cipher = createCipheriv('aes-128-ecb', key, null);
  const ciphertext = Buffer.concat([cipher.update(bytes), cipher.final()]);
  const answer = await callIlink({
    base: target.apiBase,
    path: 'ilink/bot/getuploadurl',
    token: target.token,
    body: {
      filekey,
      media_type: mediaType,
      to_user_id: target.toUserId,
      rawsize: bytes.length,
      rawfilemd5: createHash('md5').update(bytes).digest('hex'),
      filesize: ciphertext.length,
      no_need_thumb: true,
      aeskey: key.toString('hex'),
    },
    repeatable: true,
  });
  const fullUrl = scalarText(answer.upload_full_url)?.trim() || null;
  const param = scalarText(answer.upload_param);
  if (fullUrl === null && param === null) throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: 'iLink answered getuploadurl without upload_full_url or upload_param' });
  const url = fullUrl ?? `${trimBase(target.cdnBase)}/upload?encrypted_query_param=${encodeURIComponent(param ?? '')}&filekey=${encodeURIComponent(filekey)}`;
  const downloadParam = await postCiphertext(url, ciphertext);
  return { encryptQueryParam: downloadParam, aesKey: Buffer.from(key.toString('hex'), 'utf8').toString('base64'), cipherSize: ciphertext.length };
}

/**
 * Posts the ciphertext and reads `x-encrypted-param`. Through undici directly, not platformRequest:
 * the CDN answers with a header, not JSON. An upload makes no message, so its failures say `not-sent`.
 */
async function postCiphertext(url: string, ciphertext: Buffer): Promise<string> {
  let response: Awaited<ReturnType<typeof request>>;
  try {
    response = await request(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: ciphertext, headersTimeout: 30_000, bodyTimeout: 30_000 });
  } catch (error) {
    const reason = error instanceof Error ? ((error as { code?: string }).code ?? error.name) : 'network error';
    throw new ImgateError('IMG_ERR_PLATFORM_UNREACHABLE', { message: `the WeChat CDN upload failed: ${reason}`, details: { reason, outcome: 'not-sent' } });
  }
  const body = await response.body.text();
  const param = response.headers['x-encrypted-param'];
  if (response.statusCode !== 200 || typeof param !== 'string' || param === '') {
    const reason = response.headers['x-error-message'];
    throw new ImgateError(response.statusCode >= 500 ? 'IMG_ERR_PLATFORM_UNREACHABLE' : 'IMG_ERR_PLATFORM_REJECTED', {
      message: `the WeChat CDN answered the upload with HTTP ${response.statusCode}${typeof reason === 'string' ? `: ${reason}` : ''}${param === undefined ? ' and no x-encrypted-param' : ''}`,
      details: { httpStatus: response.statusCode, body: body.slice(0, 200), outcome: 'not-sent' },
    });
  }
  return param;
}
