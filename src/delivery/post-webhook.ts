import { request } from 'undici';

export interface PostResult {
  statusCode: number | null;
  /** The first KiB of the response, as text. */
  responseBody: string | null;
  retryAfter: string | undefined;
  error: string | null;
  latencyMs: number;
}

const MAX_RECORDED_BODY = 1024;

/** One POST to a subscriber. Never throws: a network error or timeout is a result like any other. */
export async function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: Buffer,
  timeoutMs: number,
): Promise<PostResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const response = await request(url, {
      method: 'POST',
      headers,
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The status is the subscriber's answer: a body that then fails to arrive does not undo a 2xx.
    const text = await readLimited(response.body).catch(() => null);
    const retryAfter = response.headers['retry-after'];
    return {
      statusCode: response.statusCode,
      responseBody: text,
      retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      error: null,
      latencyMs: elapsed(),
    };
  } catch (error) {
    const name = (error as Error).name;
    const message = name === 'TimeoutError' || name === 'HeadersTimeoutError' ? `timed out after ${timeoutMs} ms` : (error as Error).message;
    return { statusCode: null, responseBody: null, retryAfter: undefined, error: message, latencyMs: elapsed() };
  }
}

async function readLimited(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MAX_RECORDED_BODY) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, MAX_RECORDED_BODY).toString('utf8');
}
