import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { handleSlackCallback } from '../../../src/platforms/slack/callback.ts';
import { buildSlackSample, slack } from '../../../src/platforms/slack/index.ts';
import { SLACK_SAMPLE_BOT_USER } from '../../../src/platforms/slack/simulate.ts';
import { onlyEvent, inboundPost } from '../../helpers/callback-outcome.ts';
import { APP_TOKEN, channel, independentSignature } from './helpers.ts';

describe('slack simulate', () => {
  it('builds a direct message signed as Slack signs it, which the channel stores', () => {
    const config = channel();
    const sample = buildSlackSample(config, { text: 'hi there' });
    const timestamp = sample.headers['x-slack-request-timestamp']!;
    assert.equal(sample.headers['x-slack-signature'], independentSignature('slack-test-signing-secret-0123456789abcdef', timestamp, sample.body));
    const event = onlyEvent(handleSlackCallback(config, inboundPost(sample.body, sample.headers)));
    assert.equal(event.message.text, 'hi there');
    assert.equal(event.conversation.type, 'direct');
  });

  it('builds an app_mention in a channel with --group', () => {
    const config = channel();
    const { sample, what } = slack.simulate!(config, { format: 'flat', group: true });
    const event = onlyEvent(handleSlackCallback(config, inboundPost(sample.body, sample.headers)));
    assert.match(what, /app_mention/);
    assert.equal(event.conversation.type, 'group');
    assert.equal(event.message.mentionsBot, true);
    assert.ok(!event.message.mentions.some((m) => m.id === SLACK_SAMPLE_BOT_USER));
  });

  it('says why a socket-mode channel has nothing to simulate', () => {
    assert.throws(() => slack.simulate!(channel({ mode: 'socket', appToken: APP_TOKEN, signingSecret: undefined }), { format: 'flat' }), /socket mode/);
  });
});
