import { request, type Dispatcher } from 'undici';
import { RefusedAddressError, type GuardedAgent } from '../../core/address-guard.ts';
import { ImgateError } from '../../core/errors.ts';

/** Platforms cap images at a few MB (WeCom robots: 2 MB, uploads: 10 MB); more is refused early. */
const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 15_000;

/**
 * The bytes of a send's `image`: decoded from `base64`, or downloaded from `url` (http/https only,
 * at most 10 MB), for platforms that want an upload or the bytes themselves rather than a link.
 * `url` comes from whoever holds an API key, so it is fetched through `downloads`
 * (`AdapterDeps.downloads`), which never connects to the gateway's own network.
 */
export async function imageBytes(image: { url?: string; base64?: string }, downloads: Dispatcher): Promise<Buffer> {
  if (image.base64 !== undefined) return decodedImage(image.base64);
  if (image.url === undefined) throw invalid('image needs url or base64');
  const url = checkImageUrl(image.url);
  let response;
  try {
    response = await request(url, { method: 'GET', dispatcher: downloads, signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
  } catch (error) {
    if (error instanceof RefusedAddressError) {
      throw new ImgateError('IMG_ERR_VALIDATION', {
        message: 'image.url must be on a public host; send images from internal hosts as image.base64',
        details: { field: 'image.url' },
      });
    }
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

/** A send's `image.url` as a URL: 400 unless it parses and is http or https (for platforms that fetch it, and for imageBytes). */
export function checkImageUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ImgateError('IMG_ERR_VALIDATION', { message: 'image.url is not a URL', details: { field: 'image.url' } });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ImgateError('IMG_ERR_VALIDATION', { message: 'image.url must be http or https', details: { field: 'image.url' } });
  }
  return url;
}

/**
 * A send's `image.url` that a server on the operator's network fetches (a self-hosted pad server),
 * where `imageBytes`'s guarded download cannot stand between: 400 unless every address its host
 * resolves to now is public and outside `delivery.denyNetworks`, as `downloads` would connect to.
 * The server resolves the name again itself, so a name that changes its answer in between (DNS
 * rebinding) gets past this check; see docs/security.md.
 */
export async function checkPublicImageUrl(raw: string, downloads: GuardedAgent): Promise<URL> {
  const url = checkImageUrl(raw);
  try {
    await downloads.checkHost(url.hostname);
  } catch (error) {
    if (error instanceof RefusedAddressError) {
      throw new ImgateError('IMG_ERR_VALIDATION', {
        message: 'image.url must be on a public host; send images from internal hosts as image.base64',
        details: { field: 'image.url' },
      });
    }
    throw new ImgateError('IMG_ERR_VALIDATION', { message: `image.url's host ${url.hostname} does not resolve`, details: { field: 'image.url' } });
  }
  return url;
}

/** A send's `image.base64`, decoded: at most 10 MB. */
export function decodedImage(base64: string): Buffer {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length === 0) throw invalid('image.base64 decodes to nothing');
  if (bytes.length > MAX_IMAGE_BYTES) throw invalid('the image is larger than 10 MB');
  return bytes;
}

function invalid(message: string): ImgateError {
  return new ImgateError('IMG_ERR_VALIDATION', { message, details: { field: 'image' } });
}
