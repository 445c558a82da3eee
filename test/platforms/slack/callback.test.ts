import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { handleSlackCallback } from '../../../src/platforms/slack/callback.ts';
import { slack } from '../../../src/platforms/slack/index.ts';
import { onlyEvent, inboundPost } from '../../helpers/callback-outcome.ts';
import { failsWith } from '../../helpers/errors.ts';
import { APP_TOKEN, channel, eventCallback, messageEvent, signedRequest } from './helpers.ts';

describe('handleSlackCallback', () => {
  const config = channel();

  it('answers url_verification with its challenge, storing nothing', () => {
    const body = JSON.stringify({ token: 't', challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P', type: 'url_verification' });
    const outcome = handleSlackCallback(config, signedRequest(body));
    assert.deepEqual(outcome, { kind: 'reply', reply: { status: 200, contentType: 'application/json', body: { challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' } } });
  });

  it('checks the signature before reading anything, url_verification included', () => {
    const body = JSON.stringify({ challenge: 'c', type: 'url_verification' });
    assert.throws(() => handleSlackCallback(config, signedRequest(body, { secret: 'wrong' })), failsWith('IMG_ERR_INBOUND_BAD_SIGNATURE'));
    assert.throws(() => handleSlackCallback(config, inboundPost('not json', {})), failsWith('IMG_ERR_INBOUND_BAD_SIGNATURE'));
  });

  it('stores an event_callback message and acknowledges it with an empty 200', () => {
    const outcome = handleSlackCallback(config, signedRequest(JSON.stringify(eventCallback(messageEvent()))));
    assert.equal(onlyEvent(outcome).type, 'message');
    assert.deepEqual(outcome.kind === 'events' && outcome.ack, { status: 200, contentType: 'text/plain', body: '' });
  });

  it('acknowledges what it stores nothing of', () => {
    for (const payload of [eventCallback({ type: 'reaction_added' }), { type: 'app_rate_limited', minute_rate_limited: 1518467820 }]) {
      assert.equal(handleSlackCallback(config, signedRequest(JSON.stringify(payload))).kind, 'reply');
    }
  });

  it('refuses callbacks to a socket-mode channel, and other methods', () => {
    const socket = channel({ mode: 'socket', appToken: APP_TOKEN, signingSecret: undefined });
    assert.throws(() => handleSlackCallback(socket, signedRequest('{}')), failsWith('IMG_ERR_INBOUND_UNSUPPORTED'));
    assert.throws(() => handleSlackCallback(config, signedRequest('{}', {}, { method: 'GET' })), failsWith('IMG_ERR_INBOUND_METHOD'));
  });

  it('blanks the legacy verification token in the payload shown outside the store', () => {
    assert.deepEqual(slack.redactRaw!({ token: 'secret-token', type: 'event_callback' }), { token: '[redacted]', type: 'event_callback' });
  });
});
