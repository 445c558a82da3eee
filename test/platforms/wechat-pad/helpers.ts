import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { NormalizedEvent } from '../../../src/core/event.ts';
import type { ChannelAdapter, InboundRequest } from '../../../src/platforms/_kit/adapter.ts';
import { wechatPad } from '../../../src/platforms/wechat-pad/index.ts';
import type { WechatPadChannelConfig } from '../../../src/platforms/wechat-pad/config.ts';
import { testAdapterDeps } from '../../helpers/adapter-deps.ts';
import { onlyEvent } from '../../helpers/callback-outcome.ts';

export const BOT = 'wxid_bot123';
export const ROOM = '12345678901@chatroom';
export const SECRET = 'test-secret-123';
export const PATH_TOKEN = 'p4th-t0ken-abcdefghijklmnop';
/** The fixtures' clock: CreateTime values are around here. */
export const RECEIVED_AT = new Date('2025-11-24T16:00:00.000Z');

export function fixture(name: string): Buffer {
  return readFileSync(new URL(`../../fixtures/wechat-pad/${name}.json`, import.meta.url));
}

export function channel(overrides: Record<string, unknown> = {}): WechatPadChannelConfig {
  return wechatPad.configSchema.parse({ id: 'wx-main', platform: 'wechat-pad', auth: 'none', botWxid: BOT, ...overrides });
}

export interface CapturedLogs {
  lines: Record<string, unknown>[];
}

export function adapterFor(config: WechatPadChannelConfig, logs?: CapturedLogs): ChannelAdapter {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs?.lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return wechatPad.create(config, testAdapterDeps(pino({ level: 'info' }, stream)));
}

export function request(body: Buffer | string, overrides: Partial<InboundRequest> = {}): InboundRequest {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    query: {},
    rawQuery: '',
    pathToken: undefined,
    rawBody: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
    receivedAt: RECEIVED_AT,
    ...overrides,
  };
}

/** The one event of an outcome, failing when the outcome is anything else. */

/** Normalizes a fixture through an unauthenticated channel of the default bot. */
export async function normalizeFixture(name: string, overrides: Record<string, unknown> = {}): Promise<NormalizedEvent> {
  return onlyEvent(await adapterFor(channel(overrides)).handleCallback(request(fixture(name))));
}

export { onlyEvent };
