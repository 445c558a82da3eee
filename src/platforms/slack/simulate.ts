import { randomBytes, randomInt } from 'node:crypto';
import type { CallbackSample, SimulatedCallback, SimulateOptions } from '../_kit/callback-sample.ts';
import type { SlackChannelConfig } from './config.ts';
import { slackSignature } from './verify.ts';

export interface SlackSampleOptions {
  text?: string;
  /** An `app_mention` in a channel; unset or false: a `message` in a direct message with the bot. */
  group?: boolean;
  now?: Date;
}

const SLACK_SAMPLE_TEAM = 'T0IMGATE00';
const SLACK_SAMPLE_APP = 'A0IMGATE00';
export const SLACK_SAMPLE_BOT_USER = 'U0IMGATEBOT';
const SLACK_SAMPLE_USER = 'U0IMGATEUSR';
const SLACK_SAMPLE_CHANNEL = 'C0IMGATE00';
const SLACK_SAMPLE_DM = 'D0IMGATE00';

/**
 * An `event_callback` as the Events API posts it (https://api.slack.com/apis/events-api#callback-field),
 * signed with the channel's signing secret: a `message.im` in a direct message, or with `group` an
 * `app_mention` in a channel. For `imgate simulate slack` and tests. Needs the `signingSecret`
 * (events mode): a socket-mode channel takes no callbacks.
 */
export function buildSlackSample(config: SlackChannelConfig, options: SlackSampleOptions = {}): CallbackSample {
  const now = options.now ?? new Date();
  const seconds = Math.floor(now.getTime() / 1000);
  // A message's `ts`: unix seconds and six digits that make it unique in its channel.
  const ts = `${seconds}.${String(randomInt(1_000_000)).padStart(6, '0')}`;
  const text = options.text ?? 'hello from imgate simulate';
  const group = options.group === true;
  const event = group
    ? { type: 'app_mention', user: SLACK_SAMPLE_USER, text: `<@${SLACK_SAMPLE_BOT_USER}> ${text}`, ts, channel: SLACK_SAMPLE_CHANNEL, event_ts: ts, team: SLACK_SAMPLE_TEAM }
    : { type: 'message', user: SLACK_SAMPLE_USER, text, ts, channel: SLACK_SAMPLE_DM, event_ts: ts, channel_type: 'im', team: SLACK_SAMPLE_TEAM };
  const body = JSON.stringify({
    token: 'imgate-sample-verification-token',
    team_id: SLACK_SAMPLE_TEAM,
    api_app_id: SLACK_SAMPLE_APP,
    event: { ...event, client_msg_id: randomBytes(16).toString('hex') },
    type: 'event_callback',
    event_id: `Ev${randomBytes(6).toString('hex').toUpperCase()}`,
    event_time: seconds,
    authorizations: [{ enterprise_id: null, team_id: SLACK_SAMPLE_TEAM, user_id: SLACK_SAMPLE_BOT_USER, is_bot: true, is_enterprise_install: false }],
  });
  const timestamp = String(seconds);
  return {
    path: `/hooks/${encodeURIComponent(config.id)}`,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': slackSignature(config.signingSecret ?? '', timestamp, body),
    },
    body,
  };
}

/** `imgate simulate slack`. */
export function simulateSlack(config: SlackChannelConfig, options: SimulateOptions): SimulatedCallback {
  if (config.signingSecret === undefined) {
    throw new Error(`channel "${config.id}" is in socket mode and has no signingSecret: its events come over Socket Mode, not to /hooks`);
  }
  return {
    sample: buildSlackSample(config, { text: options.text, group: options.group }),
    what: options.group ? 'a signed app_mention in a channel' : 'a signed message in a direct message with the bot',
  };
}
