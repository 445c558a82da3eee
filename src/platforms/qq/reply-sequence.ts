import type { ChannelCounters } from '../_kit/adapter.ts';

/** Sends remembered for their retries; the send service retries within about a second. */
const REMEMBERED_SENDS = 1000;

/**
 * Numbers the replies to each received message: QQ's `msg_seq`, which must differ between replies
 * to one `msg_id` ("相同的 msg_id + msg_seq 重复发送会失败", send.md) and which imgate also uses to
 * count them against QQ's five. A retry of the same send (same idempotency key) reuses its number,
 * so that QQ drops it if the first attempt did arrive (what msg_seq is for, event.md "其他说明").
 */
export class ReplySequence {
  private readonly bySend = new Map<string, number>();

  constructor(private readonly counters: ChannelCounters) {}

  /** The `msg_seq` of this send's reply to `messageId`; `retry` when an earlier attempt had it. */
  async next(messageId: string, idempotencyKey: string): Promise<{ seq: number; retry: boolean }> {
    const sendKey = `${messageId}\n${idempotencyKey}`;
    const remembered = this.bySend.get(sendKey);
    if (remembered !== undefined) return { seq: remembered, retry: true };
    const seq = await this.counters.next(`reply:${messageId}`);
    this.bySend.set(sendKey, seq);
    if (this.bySend.size > REMEMBERED_SENDS) this.bySend.delete(this.bySend.keys().next().value as string);
    return { seq, retry: false };
  }
}
