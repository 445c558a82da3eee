import { ImgateError } from '../../core/errors.ts';
import type { CallbackOutcome, HttpReply, InboundRequest } from '../_kit/adapter.ts';
import { parseJsonBody } from '../_kit/json-body.ts';
import { jsonObject } from '../_kit/payload-values.ts';
import type { SlackChannelConfig } from './config.ts';
import { normalizeSlackEventCallback } from './normalize.ts';
import { verifySlackRequest } from './verify.ts';

/**
 * What Slack expects once an event is taken: any 2xx within 3 seconds; without it the event comes
 * again (up to three retries, with `X-Slack-Retry-Num` and `X-Slack-Retry-Reason`), and an app that
 * keeps failing has its events turned off (https://api.slack.com/apis/events-api#responding).
 * imgate answers after the commit, which takes milliseconds; a retry is a duplicate and answered alike.
 */
export const SLACK_ACK: HttpReply = { status: 200, contentType: 'text/plain', body: '' };

/**
 * `POST /hooks/<id>` in `events` mode: the signature and timestamp over the raw bytes first, then
 * `url_verification` answered with its challenge and nothing stored, then an `event_callback`'s
 * event stored and acknowledged after the commit. Other payloads (`app_rate_limited`) are
 * acknowledged and dropped.
 */
export function handleSlackCallback(config: SlackChannelConfig, req: InboundRequest): CallbackOutcome {
  if (req.method !== 'POST') throw new ImgateError('IMG_ERR_INBOUND_METHOD', { message: 'Slack Events API requests are POST requests' });
  if (config.mode === 'socket' || config.signingSecret === undefined) {
    throw new ImgateError('IMG_ERR_INBOUND_UNSUPPORTED', {
      message: `channel "${config.id}" is in socket mode: its events come over Slack's Socket Mode connection, not to this URL; set mode: events (and the signingSecret) to take them here`,
    });
  }
  verifySlackRequest(config.signingSecret, config.timestampWindowSeconds, req);
  const payload = jsonObject(parseJsonBody(req.rawBody));
  if (payload === null) throw new ImgateError('IMG_ERR_INBOUND_MALFORMED', { message: 'the Slack request body is not a JSON object' });

  if (payload.type === 'url_verification') {
    // https://api.slack.com/events/url_verification
    if (typeof payload.challenge !== 'string') throw new ImgateError('IMG_ERR_INBOUND_UNSUPPORTED', { message: 'the url_verification request has no challenge' });
    return { kind: 'reply', reply: { status: 200, contentType: 'application/json', body: { challenge: payload.challenge } } };
  }
  if (payload.type !== 'event_callback') return { kind: 'reply', reply: SLACK_ACK };
  const event = normalizeSlackEventCallback(payload, req.receivedAt);
  if (event === null) return { kind: 'reply', reply: SLACK_ACK };
  return { kind: 'events', events: [event], ack: SLACK_ACK };
}
