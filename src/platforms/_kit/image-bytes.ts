import { request } from 'undici';
import { ImgateError } from '../../core/errors.ts';

/** Platforms cap images at a few MB (WeCom robots: 2 MB, uploads: 10 MB); more is refused early. */
const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 15_000;

/**
 * The bytes of a send's `image`: decoded from `base64`, or downloaded from `url` (http/https only,
 * at most 10 MB), for platforms that want an upload or the bytes themselves rather than a link.
 */
export async function imageBytes(image: { url?: string; base64?: string }): Promise<Buffer> {
  if (image.base64 !== undefined) {
    const bytes = Buffer.from(image.base64, 'base64');
    if (bytes.length === 0) throw invalid('image.base64 decodes to nothing');
    if (bytes.length > MAX_IMAGE_BYTES) throw invalid('the image is larger than 10 MB');
    return bytes;
  }
  if (image.url === undefined) throw invalid('image needs url or base64');
  const url = new URL(image.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('image.url must be http or https');
  let response;
  try {
    response = await request(url, { method: 'GET', signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
  } catch {
    throw new ImgateError('IMG_ERR_VALIDATION', { message: 'image.url could not be downloaded', details: { field: 'image.url' } });
  }
  if (response.statusCode !== 200) {
    await response.body.dump();
    throw new ImgateError('IMG_ERR_VALIDATION', {
      message: `image.url answered HTTP ${response.statusCode}`,
      details: { field: 'image.url' },
    });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += (chunk as Buffer).length;
    if (size > MAX_IMAGE_BYTES) {
      response.body.destroy();
      throw invalid('the image is larger than 10 MB');
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function invalid(message: string): ImgateError {
  return new ImgateError('IMG_ERR_VALIDATION', { message, details: { field: 'image' } });
}
