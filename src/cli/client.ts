import { request } from 'undici';

/** A call from the CLI to a running gateway; prints the answer and fails on a non-2xx. */
export async function callGateway(
  url: string,
  options: { method: 'GET' | 'POST'; token?: string; headers?: Record<string, string>; body?: string },
): Promise<unknown> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const response = await request(url, { method: options.method, headers, body: options.body });
  const text = await response.body.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: print as text
  }
  if (response.statusCode >= 300) {
    throw new Error(`HTTP ${response.statusCode}: ${typeof parsed === 'string' ? parsed : JSON.stringify(parsed)}`);
  }
  return parsed;
}

export function defaultGatewayUrl(config: { server: { host: string; port: number } }): string {
  const host = config.server.host === '0.0.0.0' || config.server.host === '::' ? '127.0.0.1' : config.server.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.server.port}`;
}
