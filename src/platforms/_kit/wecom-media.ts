import { Blob } from 'node:buffer';
import { FormData } from 'undici';
import { ImgateError } from '../../core/errors.ts';
import type { AdapterDeps, SendRequest } from './adapter.ts';
import { imageBytes } from './image-bytes.ts';
import { callWecomApi, type WecomCredential } from './wecom-api.ts';

/** What a WeCom app or customer-service send needs of the adapter's dependencies. */
export type WecomSendDeps = Pick<AdapterDeps, 'tokens' | 'downloads'>;

/**
 * `POST /cgi-bin/media/upload?type=image` (multipart, field `media`, with a filename) with the
 * credential's token: a temporary media_id (three days) that an app's message/send and
 * customer service's kf/send_msg take. `explain` is the caller's errcode catalogue, so an upload
 * refusal reads like one of its send's.
 */
export async function uploadWecomImage(
  deps: WecomSendDeps,
  credential: WecomCredential,
  image: NonNullable<SendRequest['image']>,
  explain: Record<number, string>,
): Promise<string> {
  const bytes = await imageBytes(image, deps.downloads);
  const { name, type } = imageFileName(bytes);
  const form = new FormData();
  form.append('media', new Blob([bytes], { type }), name);
  const answer = await callWecomApi(deps.tokens, credential, {
    path: '/cgi-bin/media/upload',
    query: { type: 'image' },
    form,
    explain,
    repeatable: true,
  });
  if (typeof answer.media_id !== 'string' || answer.media_id === '') {
    throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: 'WeCom media/upload answered without media_id' });
  }
  return answer.media_id;
}

/**
 * WeCom takes JPG and PNG and tells them apart by the file name: name the upload after its bytes
 * (PNG, GIF, else JPEG) rather than trusting a URL's ending.
 */
export function imageFileName(bytes: Buffer): { name: string; type: string } {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return { name: 'image.png', type: 'image/png' };
  if (bytes.subarray(0, 4).toString('latin1') === 'GIF8') return { name: 'image.gif', type: 'image/gif' };
  return { name: 'image.jpg', type: 'image/jpeg' };
}
