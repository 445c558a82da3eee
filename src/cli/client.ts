import { request } from 'undici';

/** A gateway's answer other than 2xx. */
export class GatewayAnswerError extends Error {
  constructor(
    readonly status: number,
    answer: unknown,
  ) {
    super(`HTTP ${status}: ${typeof answer === 'string' ? answer : JSON.stringify(answer)}`);
  }
}

/** No gateway listens at the address the CLI called. */
export class GatewayUnreachableError extends Error {}

/**
 * A call from the CLI to a running gateway; answers the parsed body and fails on a non-2xx, or with
 * what to do when nothing listens there (the bare `ECONNREFUSED` says neither where nor why).
 */
export async function callGateway(
  url: string,
  options: { method: 'GET' | 'POST'; token?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal },
): Promise<unknown> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await request(url, { method: options.method, headers, body: options.body, signal: options.signal });
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ECONNREFUSED') throw error;
    throw new GatewayUnreachableError(
      `no gateway answers at ${new URL(url).origin} (connection refused): start it with \`imgate start\`, or name the running one with --url`,
    );
  }
  const text = await response.body.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: print as text
  }
  if (response.statusCode >= 300) throw new GatewayAnswerError(response.statusCode, parsed);
  return parsed;
}

export function defaultGatewayUrl(config: { server: { host: string; port: number } }): string {
  const host = config.server.host === '0.0.0.0' || config.server.host === '::' ? '127.0.0.1' : config.server.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.server.port}`;
}
