import { LosslessNumber, stringify } from 'lossless-json';
import type { FakeResponse, RecordedRequest } from './fake-http.ts';
import { FakePlatformApi, pathOf } from './fake-platform-api.ts';

/**
 * A fake iLink bot API and media CDN on 127.0.0.1. Requests and answers follow the official
 * client's types (`@tencent-weixin/openclaw-weixin`, `src/api/types.ts`): GetUpdatesReq/Resp,
 * WeixinMessage with uint64 ids written as bare JSON numbers (written here with lossless-json),
 * SendMessageReq/Resp, GetUploadUrlReq/Resp; the login answers of `src/auth/login-qr.ts`.
 */

export const BOT_TOKEN = 'ilink-bot-token-NEVER-LOGGED-0123456789';
export const BOT_ID = 'b0f5a3c1d2e4@im.bot';
export const ALICE = 'o9cq800kQ1Alice@im.wechat';
export const BOB = 'o9cq800kQ2Bob@im.wechat';

type Json = Record<string, unknown>;

let nextId = 7_311_234_567_890_123_000n;

/** A WeixinMessage from a user, its message_id above 2^53 (kept as a LosslessNumber, written bare). */
export function userMessage(from: string, items: Json[], fields: Json = {}): Json {
  nextId += 1n;
  return {
    seq: Number(nextId % 1000n),
    message_id: new LosslessNumber(String(nextId)),
    from_user_id: from,
    to_user_id: BOT_ID,
    create_time_ms: 1_764_900_000_000 + Number(nextId % 100_000n),
    session_id: `session-${from}`,
    message_type: 1,
    message_state: 2,
    item_list: items,
    context_token: `ctx-${from}-${nextId}`,
    ...fields,
  };
}

export const textItem = (text: string): Json => ({ type: 1, text_item: { text } });

export class FakeIlinkApi extends FakePlatformApi {
  /** What get_qrcode_status answers next, in order; then `wait`. */
  readonly qrStatuses: Json[] = [];
  /** Messages by position; a `get_updates_buf` of `buf-<n>` has seen the first n. */
  readonly messages: Json[] = [];
  expired = false;
  private codes = 0;
  /** getupdates answers of these bufs are held forever (a crash test's "answer never read"). */
  readonly heldBufs = new Set<string>();

  /** Bodies of the POSTs to `ilink/bot/<name>`, parsed. */
  calls(name: string): Json[] {
    return this.requestsTo(`/ilink/bot/${name}`).map((request) => JSON.parse(request.body.toString('utf8')) as Json);
  }

  /** CDN uploads: the query and the posted bytes. */
  uploads(): { query: URLSearchParams; body: Buffer }[] {
    return this.requestsTo('/c2c/upload').map((request) => ({ query: new URL(request.url, 'http://fake').searchParams, body: request.body }));
  }

  protected answer(request: RecordedRequest): FakeResponse {
    const path = pathOf(request);
    const override = this.routes.get(path);
    if (override) return override(request);
    const authorized = request.headers.authorization === `Bearer ${BOT_TOKEN}` && request.headers.authorizationtype === 'ilink_bot_token';
    switch (path) {
      case '/ilink/bot/get_bot_qrcode':
        this.codes += 1;
        return { status: 200, body: { qrcode: `qr-${this.codes}`, qrcode_img_content: `https://liteapp.weixin.qq.com/q/7GiQu1?qrcode=qr-${this.codes}&bot_type=3` } };
      case '/ilink/bot/get_qrcode_status':
        return { status: 200, body: this.qrStatuses.shift() ?? { status: 'wait' }, wait: new Promise((resolve) => setTimeout(resolve, 50)) };
      case '/ilink/bot/getupdates':
        return this.getUpdates(request, authorized);
      case '/ilink/bot/sendmessage':
        if (!authorized) return { status: 200, body: { ret: -14, errmsg: 'session timeout' } };
        return { status: 200, body: '{"ret":0}' };
      case '/ilink/bot/getuploadurl': {
        const body = JSON.parse(request.body.toString('utf8')) as Json;
        return { status: 200, body: { upload_param: `up-${String(body.filekey)}` } };
      }
      case '/c2c/upload':
        return { status: 200, headers: { 'x-encrypted-param': `dl-${new URL(request.url, 'http://fake').searchParams.get('filekey') ?? ''}` }, body: '' };
      default:
        return { status: 404, body: { ret: -1, errmsg: `no such path ${path}` } };
    }
  }

  private getUpdates(request: RecordedRequest, authorized: boolean): FakeResponse {
    if (this.expired || !authorized) return { status: 200, body: { ret: -14, errcode: -14, errmsg: 'session timeout' } };
    const buf = String((JSON.parse(request.body.toString('utf8')) as Json).get_updates_buf ?? '');
    if (this.heldBufs.has(buf)) return { status: 200, body: { ret: 0, msgs: [] }, wait: new Promise<void>(() => undefined) };
    const seen = buf === '' ? 0 : Number(buf.slice('buf-'.length));
    const msgs = this.messages.slice(seen);
    // An empty answer is held a little, as the real long poll holds it until its timeout.
    const wait = msgs.length === 0 ? new Promise<void>((resolve) => setTimeout(resolve, 100)) : undefined;
    return { status: 200, body: stringify({ ret: 0, msgs, get_updates_buf: `buf-${this.messages.length}`, longpolling_timeout_ms: 1000 }) ?? '', ...(wait ? { wait } : {}) };
  }
}
