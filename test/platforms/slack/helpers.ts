import { createHmac } from 'node:crypto';
import type { InboundRequest } from '../../../src/platforms/_kit/adapter.ts';
import { slack, type SlackChannelConfig } from '../../../src/platforms/slack/index.ts';
import { inboundPost } from '../../helpers/callback-outcome.ts';

export const SIGNING_SECRET = 'slack-test-signing-secret-0123456789abcdef';
export const BOT_TOKEN = 'xoxb-1111-2222-slacktestbottoken';
export const APP_TOKEN = 'xapp-1-A0TEST-3333-slacktestapptoken';
export const TEAM = 'T0TESTTEAM';
export const APP_ID = 'A0TESTAPP';
export const BOT_USER = 'U0TESTBOT';
export const USER = 'U0ALICE';
export const CHANNEL = 'C0GENERAL';
export const DM = 'D0ALICE';

/** A slack channel config, parsed as the gateway parses it. */
export function channel(fields: Record<string, unknown> = {}): SlackChannelConfig {
  return slack.configSchema.parse({ id: 'slack-test', platform: 'slack', botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, ...fields });
}

/** The signature as Slack documents it, computed here without imgate's code. */
export function independentSignature(secret: string, timestamp: string, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SignOptions {
  secret?: string;
  /** Unix seconds; default now. */
  timestamp?: number;
  retryNum?: number;
}

/** Headers of a signed Events API request carrying `body`. */
export function signedHeaders(body: string, options: SignOptions = {}): Record<string, string> {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-slack-request-timestamp': timestamp,
    'x-slack-signature': independentSignature(options.secret ?? SIGNING_SECRET, timestamp, body),
  };
  if (options.retryNum !== undefined) {
    headers['x-slack-retry-num'] = String(options.retryNum);
    headers['x-slack-retry-reason'] = 'http_timeout';
  }
  return headers;
}

/** A signed Events API request as the `/hooks` route hands it to the adapter. */
export function signedRequest(body: string, options: SignOptions = {}, overrides: Partial<InboundRequest> = {}): InboundRequest {
  return inboundPost(body, signedHeaders(body, options), overrides);
}

let counter = 0;

/** A fresh message `ts`, unique within the test run. */
export function nextTs(): string {
  counter += 1;
  return `${Math.floor(Date.now() / 1000)}.${String(counter).padStart(6, '0')}`;
}

/** An `event_callback` payload around `event`, for the bot BOT_USER of app APP_ID. */
export function eventCallback(event: Record<string, unknown>, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    token: 'legacy-verification-token',
    team_id: TEAM,
    api_app_id: APP_ID,
    event,
    type: 'event_callback',
    event_id: `Ev${Math.random().toString(36).slice(2, 12).toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ enterprise_id: null, team_id: TEAM, user_id: BOT_USER, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
    ...fields,
  };
}

/** A `message` event in CHANNEL from USER. */
export function messageEvent(fields: Record<string, unknown> = {}): Record<string, unknown> {
  const ts = nextTs();
  return { type: 'message', user: USER, text: 'hello', ts, event_ts: ts, channel: CHANNEL, channel_type: 'channel', team: TEAM, ...fields };
}
