import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { request } from 'undici';
import { ImgateError } from '../../core/errors.ts';
import { parseAddress } from '../../core/ip-allow-list.ts';

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
  await refusePrivateHost(url.hostname);
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

/**
 * A send's `image.url` comes from whoever holds an API key: fetching it must not reach the
 * gateway's own network (loopback, private ranges, link-local cloud metadata). Every address the
 * name resolves to must be public. (A name that resolves differently a moment later is not covered;
 * images on an internal host can be sent as `image.base64`.)
 */
async function refusePrivateHost(hostname: string): Promise<void> {
  const host = hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((entry) => entry.address);
  } catch {
    throw new ImgateError('IMG_ERR_VALIDATION', { message: 'image.url could not be downloaded', details: { field: 'image.url' } });
  }
  if (addresses.some((address) => parseAddress(address).range() !== 'unicast')) {
    throw new ImgateError('IMG_ERR_VALIDATION', {
      message: 'image.url must be on a public host; send images from internal hosts as image.base64',
      details: { field: 'image.url' },
    });
  }
}
