import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'lossless-json';
import { parseJsonBody } from '../../../src/platforms/_kit/json-body.ts';
import { contextTokenOf, normalizeIlinkMessage } from '../../../src/platforms/wechat-ilink/normalize.ts';

const at = new Date('2026-12-05T12:00:00Z');
/** A getupdates message as iLink writes it: message_id a bare uint64 (official src/api/types.ts). */
const WIRE = `{"message_id": 18446744073709551615, "seq": 12, "from_user_id": "u1@im.wechat", "to_user_id": "bot@im.bot", "group_id": "g1@chatroom", "create_time_ms": 1764936000000, "message_type": 1, "item_list": [{"type": 4, "file_item": {"file_name": "report.pdf", "len": "48213", "md5": "9e107d9d372bb6826bd81d3542a419d6", "media": {"encrypt_query_param": "q", "aes_key": "a2V5"}}}], "context_token": "ctx-1"}`;

describe('normalizeIlinkMessage', () => {
  it('keeps a uint64 message_id exact, as lossless-json reads it', () => {
    const message = parseJsonBody(Buffer.from(WIRE)) as Record<string, unknown>;
    const event = normalizeIlinkMessage(message, at)!;
    const reference = (parse(WIRE) as { message_id: { toString(): string } }).message_id.toString();
    assert.equal(event.message.platformId, reference);
    assert.equal(event.dedupKey, `msg:${reference}`);
  });

  it('a file in a group: the group is the conversation, the file keeps its name, size and CDN reference', () => {
    const event = normalizeIlinkMessage(parseJsonBody(Buffer.from(WIRE)) as Record<string, unknown>, at)!;
    assert.deepEqual(event.conversation, { id: 'g1@chatroom', type: 'group', name: null });
    assert.equal(event.message.type, 'file');
    assert.deepEqual(event.message.content.items, [
      { type: 'file', fileName: 'report.pdf', size: 48213, md5: '9e107d9d372bb6826bd81d3542a419d6', media: { encryptQueryParam: 'q', aesKey: 'a2V5', fullUrl: null } },
    ]);
    assert.equal(event.message.createdAt, '2025-12-05T12:00:00.000Z');
  });

  it("the bot's own message is isSelf, its conversation the user, and carries no context token to keep", () => {
    const own = { message_id: 5, from_user_id: 'bot@im.bot', to_user_id: 'u1@im.wechat', message_type: 2, item_list: [{ type: 5, video_item: { video_size: 100, play_length: 3 } }], context_token: 'c' };
    const event = normalizeIlinkMessage(own, at)!;
    assert.equal(event.sender.isSelf, true);
    assert.equal(event.conversation.id, 'u1@im.wechat');
    assert.equal(event.message.type, 'video');
    assert.equal(contextTokenOf(own), null);
    assert.deepEqual(contextTokenOf({ ...own, message_type: 1, from_user_id: 'u1@im.wechat' }), { userId: 'u1@im.wechat', token: 'c' });
  });

  it('a message without a message_id is left out (nothing to deduplicate on)', () => {
    assert.equal(normalizeIlinkMessage({ from_user_id: 'u1', item_list: [] }, at), null);
  });
});
