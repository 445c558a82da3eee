import { createHmac } from 'node:crypto';
import { request } from 'undici';
import { ADMIN_TOKEN } from './gateway.ts';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export async function call(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  options: { body?: string | Buffer | object; headers?: Record<string, string>; token?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | Buffer | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' || Buffer.isBuffer(options.body) ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await request(url, { method, headers, body });
  const text = await response.body.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.statusCode, headers: response.headers, text, json };
}

export const admin = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: object) =>
  call(method, url, { token: ADMIN_TOKEN, body });

/** The webhook guide's signature, computed here with node:crypto (docs/channels/wechat-pad.md, "Flat JSON"). */
export function padproHeaders(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000), separator = ':') {
  return {
    'x-webhook-timestamp': String(timestamp),
    'x-webhook-signature': createHmac('sha256', secret).update(`${timestamp}${separator}${body}`).digest('hex'),
  };
}

/** OpenClaw wechat_abot's signature over the raw body (docs/channels/wechat-pad.md). */
export function abotHeaders(secret: string, body: string) {
  return { 'x-wechat-abot-signature': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` };
}

export async function eventsOf(baseUrl: string): Promise<any[]> {
  return (await admin('GET', `${baseUrl}/v1/events?limit=500`)).json.data;
}

export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
