import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { describe, it } from 'node:test';
import { isValidSlackRequest } from '@slack/bolt';
import { slackSignature, verifySlackRequest } from '../../../src/platforms/slack/verify.ts';
import { inboundPost } from '../../helpers/callback-outcome.ts';
import { failsWith } from '../../helpers/errors.ts';
import { SIGNING_SECRET, independentSignature, signedRequest } from './helpers.ts';

const WINDOW = 300;

/**
 * The example of "Verifying requests from Slack"
 * (https://api.slack.com/authentication/verifying-requests-from-slack): a slash command's body, its
 * timestamp, the example signing secret and the signature Slack shows for them.
 */
const DOC = {
  secret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: '1531420618',
  body:
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};

describe('slackSignature', () => {
  it("reproduces the signature of Slack's documented example", () => {
    assert.equal(slackSignature(DOC.secret, DOC.timestamp, DOC.body), DOC.signature);
    assert.equal(slackSignature(DOC.secret, DOC.timestamp, Buffer.from(DOC.body, 'utf8')), DOC.signature);
  });

  it('accepts the documented example at its own time, and refuses it an hour later', () => {
    const headers = { 'x-slack-request-timestamp': DOC.timestamp, 'x-slack-signature': DOC.signature };
    const at = new Date(Number(DOC.timestamp) * 1000 + 10_000);
    assert.doesNotThrow(() => verifySlackRequest(DOC.secret, WINDOW, inboundPost(DOC.body, headers, { receivedAt: at })));
    assert.throws(
      () => verifySlackRequest(DOC.secret, WINDOW, inboundPost(DOC.body, headers, { receivedAt: new Date(at.getTime() + 3_600_000) })),
      failsWith('IMG_ERR_INBOUND_STALE_TIMESTAMP', (e) => assert.equal(e.status, 401)),
    );
  });
});

describe('verifySlackRequest', () => {
  const body = '{"type":"event_callback","event":{"type":"message","text":"héllo"}}';

  it('accepts a request signed with the signing secret within five minutes either way', () => {
    const now = Math.floor(Date.now() / 1000);
    for (const timestamp of [now, now - 299, now + 299]) assert.doesNotThrow(() => verifySlackRequest(SIGNING_SECRET, WINDOW, signedRequest(body, { timestamp })));
  });

  it('refuses another secret, a changed body and missing headers as IMG_ERR_INBOUND_BAD_SIGNATURE', () => {
    assert.throws(() => verifySlackRequest(SIGNING_SECRET, WINDOW, signedRequest(body, { secret: 'not-the-secret' })), failsWith('IMG_ERR_INBOUND_BAD_SIGNATURE'));
    const tampered = signedRequest(body);
    tampered.rawBody = Buffer.from(body.replace('héllo', 'hello'), 'utf8');
    assert.throws(() => verifySlackRequest(SIGNING_SECRET, WINDOW, tampered), failsWith('IMG_ERR_INBOUND_BAD_SIGNATURE'));
    assert.throws(() => verifySlackRequest(SIGNING_SECRET, WINDOW, inboundPost(body, {})), failsWith('IMG_ERR_INBOUND_BAD_SIGNATURE'));
  });

  it('refuses a correctly signed request more than five minutes old or ahead', () => {
    const now = Math.floor(Date.now() / 1000);
    for (const timestamp of [now - 301, now + 301]) {
      assert.throws(() => verifySlackRequest(SIGNING_SECRET, WINDOW, signedRequest(body, { timestamp })), failsWith('IMG_ERR_INBOUND_STALE_TIMESTAMP'));
    }
  });

  /**
   * Requests made the ways a request can be right or wrong, each put to imgate's verifier and to
   * Bolt's `isValidSlackRequest` (@slack/bolt, the official one): both accept exactly the same.
   * Bolt refuses only old timestamps, not ones ahead (Slack's page says "more than five minutes
   * from local time", which imgate follows), so generated timestamps stay at most five minutes ahead.
   */
  it("accepts exactly what the official @slack/bolt verifier accepts, on generated requests", () => {
    const nowMs = Date.now();
    const now = Math.floor(nowMs / 1000);
    let accepted = 0;
    for (let i = 0; i < 400; i += 1) {
      const secret = i % 7 === 0 ? SIGNING_SECRET : randomBytes(16).toString('hex');
      const body = JSON.stringify({ type: 'event_callback', n: i, text: randomBytes(randomInt(0, 40)).toString('base64') });
      // Every few cases exactly at the edge of the window, where a fraction of a second could tip it.
      const timestamp = String(i % 5 === 0 ? now - 300 - (i % 2) : now - randomInt(-300, 900));
      let signature = independentSignature(secret, timestamp, body);
      let sentBody = body;
      switch (i % 6) {
        case 1: signature = independentSignature('another-secret', timestamp, body); break;
        case 2: sentBody = `${body} `; break;
        case 3: signature = signature.replace('v0=', 'v1='); break;
        case 4: signature = `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`; break;
        default: break;
      }
      const ours = (() => {
        try {
          verifySlackRequest(secret, WINDOW, inboundPost(sentBody, { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature }, { receivedAt: new Date(nowMs) }));
          return true;
        } catch {
          return false;
        }
      })();
      const theirs = isValidSlackRequest({
        signingSecret: secret,
        body: sentBody,
        headers: { 'x-slack-request-timestamp': Number(timestamp), 'x-slack-signature': signature },
        nowMilliseconds: nowMs,
      });
      assert.equal(ours, theirs, `case ${i}: timestamp ${timestamp} (now ${now}), variant ${i % 6}`);
      if (ours) accepted += 1;
    }
    assert.ok(accepted > 50, `enough accepted cases to mean something (${accepted})`);
  });
});
