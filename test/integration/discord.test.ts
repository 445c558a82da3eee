import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import {
  ALICE,
  API,
  APPLICATION_ID,
  BOB,
  BOT_TOKEN,
  BOT_USER_ID,
  DM_CHANNEL,
  FakeDiscordApi,
  GUILD_CHANNEL,
  GUILD_ID,
  commandInteraction,
  jsonOf,
  messageData,
  officiallyValid,
  signedInteractionHeaders,
  snowflakeNow,
  testKeyPair,
  tooManyRequests,
} from '../helpers/fake-discord.ts';
import { FakeOpGateway } from '../helpers/fake-op-gateway.ts';
import { FakeHttpServer } from '../helpers/fake-http.ts';
import { API_TOKEN, removeDir, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { admin, call, eventsOf, waitFor } from '../helpers/http.ts';

const SUB_SECRET = `whsec_${Buffer.from('discord-subscriber-key-32-bytes!').toString('base64')}`;
const HEARTBEAT_MS = 250;
/** GUILD_MESSAGES | DIRECT_MESSAGES | MESSAGE_CONTENT: the intents configured below. */
const CONFIGURED_INTENTS = (1 << 9) | (1 << 12) | (1 << 15);

describe('discord channel, end to end', () => {
  let gw: TestGateway;
  const api = new FakeDiscordApi();
  const discordGateway = new FakeOpGateway(HEARTBEAT_MS, BOT_USER_ID);
  const subscriber = new FakeHttpServer();
  const keys = testKeyPair();
  let nextMessage = 0;

  const send = (body: object) => call('POST', `${gw.url}/v1/messages`, { body, token: API_TOKEN });
  const interact = (body: string, headers: Record<string, string>) => call('POST', `${gw.url}/hooks/dc`, { body, headers });
  const messagesPath = (channel: string) => `${API}/channels/${channel}/messages`;
  const channelStatus = async () => (await admin('GET', `${gw.url}/v1/channels`)).json.data.find((c: any) => c.id === 'dc');
  const storedWith = async (platformId: string) => (await eventsOf(gw.url)).filter((e) => e.message.platformId === platformId);
  /** Delivered events, verified with the subscriber's secret. */
  const delivered = () => subscriber.requests.map((r) => new Webhook(SUB_SECRET).verify(r.body.toString('utf8'), r.headers as Record<string, string>) as any);
  const newMessageId = () => String(1_300_000_000_000_001_000n + BigInt((nextMessage += 1)));

  before(async () => {
    await api.start();
    await discordGateway.start();
    api.gatewayUrl = discordGateway.url;
    await subscriber.start();
    gw = await startTestGateway({
      channels: [
        {
          id: 'dc',
          platform: 'discord',
          token: BOT_TOKEN,
          applicationId: APPLICATION_ID,
          publicKey: keys.publicKeyHex,
          apiBase: `${api.url}/api`,
          intents: ['GUILD_MESSAGES', 'DIRECT_MESSAGES', 'MESSAGE_CONTENT'],
          reconnect: { initialDelayMs: 50, maxDelayMs: 400 },
        },
      ],
      subscriptions: [{ id: 'dc-events', url: `${subscriber.url}/hook`, secret: SUB_SECRET, channels: ['dc'] }],
    });
  });

  after(async () => {
    await gw.close();
    await discordGateway.stop();
    await api.stop();
    await subscriber.stop();
    removeDir(gw.dir);
  });

  it('identifies with the configured intents at the URL of GET /gateway/bot, keeps heartbeats acknowledged and shows the channel connected', async () => {
    const identify = await discordGateway.waitForFrame(1, 2);
    assert.equal(identify.d.token, BOT_TOKEN);
    assert.equal(identify.d.intents, CONFIGURED_INTENTS);
    assert.equal(identify.d.properties.browser, 'imgate');
    const first = discordGateway.connections[0]!;
    assert.equal(first.path, '/');
    assert.equal(first.query.get('v'), '10');
    assert.equal(first.query.get('encoding'), 'json');
    assert.equal(api.requestsTo(`${API}/gateway/bot`)[0]?.headers.authorization, `Bot ${BOT_TOKEN}`);
    await discordGateway.waitFor(() => first.acks >= 2, 'two acknowledged heartbeats');
    const heartbeats = first.frames.filter((frame) => frame.op === 1);
    assert.equal(heartbeats.at(-1)?.d, 1, 'a heartbeat carries the last sequence number (READY)');
    const status = await waitFor(async () => ((await channelStatus())?.connected === true ? channelStatus() : undefined));
    assert.equal(status.platform, 'discord');
    assert.equal(status.lastError, null);
  });

  it('stores a MESSAGE_CREATE once and delivers it, mentions taken out of the text', async () => {
    const id = newMessageId();
    const data = messageData({ id, content: `<@${BOT_USER_ID}> deploy please <@!${BOB.id}>`, mentions: [{ ...BOB }, { id: BOT_USER_ID, username: 'imgate-bot', bot: true }] });
    discordGateway.dispatch('MESSAGE_CREATE', data);
    discordGateway.dispatch('MESSAGE_CREATE', data);
    await subscriber.waitForRequests(1);
    const event = delivered().find((e) => e.message.platformId === id);
    assert.equal(event.platform, 'discord');
    assert.equal(event.type, 'message');
    assert.equal(event.message.type, 'text');
    assert.equal(event.message.text, 'deploy please');
    assert.equal(event.message.mentionsBot, true);
    assert.deepEqual(event.message.mentions, [{ id: BOB.id, name: 'bob' }]);
    assert.deepEqual(event.sender, { id: ALICE.id, name: 'Alice', isSelf: false });
    assert.deepEqual(event.conversation, { id: GUILD_CHANNEL, type: 'group', name: null });
    assert.equal(event.message.content.guildId, GUILD_ID);
    await waitFor(async () => ((await storedWith(id)).length === 1 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await storedWith(id)).length, 1, 'the same message id is stored once');
  });

  it("stores a DM, the bot's own message (flagged as self, not delivered) and a deletion under its own key", async () => {
    const dm = newMessageId();
    const own = newMessageId();
    discordGateway.dispatch('MESSAGE_CREATE', messageData({ id: dm, channel_id: DM_CHANNEL, guild_id: undefined, member: undefined, content: 'hi bot' }));
    discordGateway.dispatch('MESSAGE_CREATE', messageData({ id: own, author: { id: BOT_USER_ID, username: 'imgate-bot', bot: true }, content: 'I said this' }));
    discordGateway.dispatch('MESSAGE_DELETE', { id: dm, channel_id: DM_CHANNEL });
    const events = await waitFor(async () => {
      const found = (await eventsOf(gw.url)).filter((e) => e.message.platformId === dm || e.message.platformId === own);
      return found.length === 3 ? found : undefined;
    });
    const direct = events.find((e) => e.message.platformId === dm && e.type === 'message');
    assert.deepEqual(direct.conversation, { id: DM_CHANNEL, type: 'direct', name: null });
    const recalled = events.find((e) => e.type === 'message.recalled');
    assert.equal(recalled.message.content.recalledPlatformId, dm);
    const self = events.find((e) => e.message.platformId === own);
    assert.equal(self.sender.isSelf, true);
    await subscriber.waitForRequests(3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(!delivered().some((e) => e.message.platformId === own), 'own messages are not delivered (includeSelf: false)');
  });

  it('resumes a dropped connection at the resume URL with the last stored seq; the missed messages arrive once each', async () => {
    const stored = newMessageId();
    const storedSeq = discordGateway.dispatch('MESSAGE_CREATE', messageData({ id: stored, content: 'before the drop' }));
    await waitFor(async () => ((await storedWith(stored)).length === 1 ? true : undefined));
    const connectionsBefore = discordGateway.connections.length;
    discordGateway.drop();
    const missed = [newMessageId(), newMessageId()];
    for (const id of missed) discordGateway.dispatch('MESSAGE_CREATE', messageData({ id, content: `missed ${id}` }));
    // Discord may replay what was already received; the store's dedup must absorb it.
    discordGateway.replayOverlap = 1;
    const resume = await discordGateway.waitForFrame(connectionsBefore + 1, 6);
    discordGateway.replayOverlap = 0;
    assert.equal(discordGateway.connections[connectionsBefore]!.path, '/resume');
    assert.equal(resume.d.session_id, discordGateway.sessionId);
    assert.equal(resume.d.seq, storedSeq, 'the seq of the last dispatch stored');
    for (const id of [stored, ...missed]) {
      await waitFor(async () => ((await storedWith(id)).length === 1 ? true : undefined), 10_000, `message ${id}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const id of [stored, ...missed]) {
      assert.equal((await storedWith(id)).length, 1, `message ${id} is stored exactly once`);
      assert.equal(delivered().filter((e) => e.message.platformId === id).length, 1, `message ${id} is delivered exactly once`);
    }
    const status = await waitFor(async () => ((await channelStatus())?.connected === true ? channelStatus() : undefined));
    assert.equal(status.lastError.code, 'IMG_ERR_PLATFORM_UNREACHABLE', 'the drop is the last error');
  });

  it('identifies afresh after INVALID_SESSION, at the main Gateway URL', async () => {
    const connectionsBefore = discordGateway.connections.length;
    discordGateway.invalidateSession();
    const identify = await discordGateway.waitForFrame(connectionsBefore + 1, 2);
    assert.equal(identify.d.intents, CONFIGURED_INTENTS);
    assert.equal(discordGateway.connections[connectionsBefore]!.path, '/');
    assert.ok(!discordGateway.connections[connectionsBefore]!.frames.some((frame) => frame.op === 6), 'no RESUME of the ended session');
    const id = newMessageId();
    discordGateway.dispatch('MESSAGE_CREATE', messageData({ id, content: 'in the new session' }));
    await waitFor(async () => ((await storedWith(id)).length === 1 ? true : undefined));
  });

  it('drops a connection whose heartbeat goes unacknowledged and resumes', async () => {
    const connectionsBefore = discordGateway.connections.length;
    const zombie = discordGateway.current!;
    discordGateway.ackHeartbeats = false;
    await discordGateway.waitFor(() => discordGateway.connections.length > connectionsBefore, 'a new connection');
    discordGateway.ackHeartbeats = true;
    const resume = await discordGateway.waitForFrame(connectionsBefore + 1, 6);
    assert.equal(resume.d.session_id, discordGateway.sessionId);
    await discordGateway.waitFor(() => zombie.closeCode !== null, 'the zombie closed');
    assert.equal(zombie.closeCode, 4999, 'closed with a resumable code, not 1000');
    await waitFor(async () => ((await channelStatus())?.connected === true ? true : undefined));
  });

  it('answers a signed PING with PONG, and a badly signed one with 401, storing nothing', async () => {
    const before = (await eventsOf(gw.url)).length;
    const body = JSON.stringify({ id: snowflakeNow(), application_id: APPLICATION_ID, type: 1, version: 1 });
    const headers = signedInteractionHeaders(keys, body);
    assert.equal(await officiallyValid(keys, body, headers), true, 'discord-interactions accepts the test signature');
    const ping = await interact(body, headers);
    assert.equal(ping.status, 200, ping.text);
    assert.deepEqual(ping.json, { type: 1 });

    const stranger = testKeyPair();
    const forged = signedInteractionHeaders(stranger, body);
    assert.equal(await officiallyValid(keys, body, forged), false);
    const refused = await interact(body, forged);
    assert.equal(refused.status, 401);
    assert.equal(refused.json.error.code, 'IMG_ERR_INBOUND_BAD_SIGNATURE');
    const tampered = await interact(body.replace('"version":1', '"version":2'), headers);
    assert.equal(tampered.status, 401);
    const command = JSON.stringify(commandInteraction({ id: snowflakeNow(7) }));
    const unsignedCommand = await interact(command, { 'content-type': 'application/json' });
    assert.equal(unsignedCommand.status, 401);
    assert.equal((await eventsOf(gw.url)).length, before);
  });

  it('stores a slash command, defers the answer, and replies through the interaction webhook without the bot token', async () => {
    const interactionId = snowflakeNow(1);
    const payload = commandInteraction({ id: interactionId });
    const body = JSON.stringify(payload);
    const answer = await interact(body, signedInteractionHeaders(keys, body));
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.json, { type: 5 });
    const [event] = await storedWith(interactionId);
    assert.equal(event.message.text, '/deploy env:prod');
    assert.equal(event.message.mentionsBot, true);
    assert.deepEqual(event.sender, { id: ALICE.id, name: 'Ally', isSelf: false });
    assert.deepEqual(event.conversation, { id: GUILD_CHANNEL, type: 'group', name: 'general' });
    assert.equal(event.message.content.interaction.commandName, 'deploy');
    const shown = await admin('GET', `${gw.url}/v1/events/${event.id}`);
    assert.equal(shown.json.raw.token, '[redacted]');
    await waitFor(() => delivered().find((e) => e.message.platformId === interactionId));
    assert.ok(!subscriber.requests.some((r) => r.body.includes(String(payload.token))), 'no subscriber sees the interaction token');

    const reply = await send({ channel: 'dc', to: GUILD_CHANNEL, text: 'deployed', replyTo: event.message.id });
    assert.equal(reply.status, 200, reply.text);
    const followup = api.requestsTo(`${API}/webhooks/${APPLICATION_ID}/${String(payload.token)}`).at(-1)!;
    assert.equal(followup.headers.authorization, undefined);
    assert.equal((await jsonOf(followup)).content, 'deployed');
    assert.match(reply.json.platformMessageId, /^\d+$/);
  });

  it('replies to a message with message_reference and a nonce', async () => {
    const id = newMessageId();
    discordGateway.dispatch('MESSAGE_CREATE', messageData({ id, content: 'status?' }));
    const [event] = await waitFor(async () => ((await storedWith(id)).length === 1 ? storedWith(id) : undefined));
    const reply = await send({ channel: 'dc', to: event.conversation.id, text: 'all green', replyTo: event.message.id });
    assert.equal(reply.status, 200, reply.text);
    assert.match(reply.json.platformMessageId, /^\d+$/);
    const request = api.requestsTo(messagesPath(GUILD_CHANNEL)).at(-1)!;
    assert.equal(request.headers.authorization, `Bot ${BOT_TOKEN}`);
    const body = await jsonOf(request);
    assert.equal(body.content, 'all green');
    assert.deepEqual(body.message_reference, { message_id: id, channel_id: GUILD_CHANNEL, guild_id: GUILD_ID, fail_if_not_exists: false });
    assert.equal(body.enforce_nonce, true);
    assert.equal(typeof body.nonce, 'string');
  });

  it('sends 2500 characters as two messages, cut between words', async () => {
    const text = Array.from({ length: 500 }, (_, i) => `w${String(i).padStart(3, '0')}`).join(' ');
    assert.equal(text.length, 2499);
    const before = api.requestsTo(messagesPath(DM_CHANNEL)).length;
    const answer = await send({ channel: 'dc', to: DM_CHANNEL, markdown: text });
    assert.equal(answer.status, 200, answer.text);
    const parts = await Promise.all(api.requestsTo(messagesPath(DM_CHANNEL)).slice(before).map(jsonOf));
    assert.equal(parts.length, 2);
    assert.ok(parts.every((part) => part.content.length <= 2000));
    assert.equal(parts.map((part) => part.content).join(' '), text);
    assert.notEqual(parts[0].nonce, parts[1].nonce);
  });

  it("waits out a 429's retry_after before the next request", async () => {
    const channel = '1000000000000000400';
    api.respondOnce(messagesPath(channel), tooManyRequests(1.5));
    const answer = await send({ channel: 'dc', to: channel, text: 'after the limit' });
    assert.equal(answer.status, 200, answer.text);
    const [limited, retried] = api.requestsTo(messagesPath(channel));
    assert.ok(limited && retried, 'the message was sent again');
    assert.ok(retried.at - limited.at >= 1500, `the retry came ${retried.at - limited.at} ms after the 429`);
  });

  it('answers 429 with retry_after when Discord asks for a longer wait than maxWaitSeconds', async () => {
    const channel = '1000000000000000500';
    api.route(messagesPath(channel), () => tooManyRequests(30));
    const answer = await send({ channel: 'dc', to: channel, text: 'too soon' });
    api.route(messagesPath(channel), null);
    assert.equal(answer.status, 429, answer.text);
    assert.equal(answer.json.error.code, 'IMG_ERR_PLATFORM_RATE_LIMITED');
    assert.ok(answer.json.retry_after >= 30, `retry_after ${answer.json.retry_after}`);
    assert.equal(api.requestsTo(messagesPath(channel)).length, 1, 'no retry against the limit');
  });

  it('never writes the bot token or an interaction token to the log', () => {
    const logs = gw.logText();
    assert.ok(logs.includes('the Discord Gateway: ready'), 'the log shows the connection');
    assert.ok(!logs.includes(BOT_TOKEN), 'the bot token is in the log');
    assert.ok(!logs.includes('INTERACTION-TOKEN'), 'an interaction token is in the log');
  });
});
