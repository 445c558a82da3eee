import type { FakeResponse, RecordedRequest } from './fake-http.ts';
import { FakePlatformApi, pathOf } from './fake-platform-api.ts';

/**
 * Test fixtures and a fake Bot API for Telegram. Shapes follow https://core.telegram.org/bots/api:
 * Update, Message, MessageEntity, CallbackQuery, PhotoSize, Voice, Document, ResponseParameters.
 */

export const BOT_ID = 7000000001;
export const BOT_TOKEN = `${BOT_ID}:AAHfake-telegram-token-NEVER_LOGGED`;
export const BOT_USERNAME = 'imgate_test_bot';
export const SECRET_TOKEN = 'tg-secret_token-NEVER-LOGGED';
export const ALICE = { id: 111000111, is_bot: false, first_name: 'Alice', last_name: 'Liddell', username: 'alice', language_code: 'en' };
export const BOB = { id: 222000222, is_bot: false, first_name: 'Bob' };
export const BOT_USER = { id: BOT_ID, is_bot: true, first_name: 'imgate test', username: BOT_USERNAME };
export const PRIVATE_CHAT = { id: ALICE.id, first_name: 'Alice', last_name: 'Liddell', username: 'alice', type: 'private' };
export const GROUP_CHAT = { id: -4000000001, title: 'Tea party', type: 'group', all_members_are_administrators: true };
export const SUPERGROUP_CHAT = { id: -1004000000002, title: 'Wonderland', type: 'supergroup', username: 'wonderland' };
export const CHANNEL_CHAT = { id: -1004000000003, title: 'Rabbit news', type: 'channel', username: 'rabbit_news' };

type Json = Record<string, unknown>;

export function update(updateId: number, kind: Json): Json {
  return { update_id: updateId, ...kind };
}

/** A Message (https://core.telegram.org/bots/api#message). */
export function message(messageId: number, chat: Json, fields: Json = {}): Json {
  return { message_id: messageId, from: ALICE, chat, date: 1_764_900_000, ...fields };
}

/** Telegram's own example of a MessageEntity list: `@username` and `/command@bot` as `mention` and `bot_command`. */
export function textWithEntities(text: string): Json {
  const entities: Json[] = [];
  for (const match of text.matchAll(/@[A-Za-z0-9_]{5,32}|\/[a-z_]+(@[A-Za-z0-9_]+)?/g)) {
    entities.push({ type: match[0].startsWith('/') ? 'bot_command' : 'mention', offset: match.index, length: match[0].length });
  }
  return entities.length === 0 ? { text } : { text, entities };
}

/** Two PhotoSize entries, smallest first, as a photo message carries them. */
export const PHOTO = [
  { file_id: 'AgACAgQAAxkBAAIBsmall', file_unique_id: 'AQADsmall', file_size: 1520, width: 90, height: 67 },
  { file_id: 'AgACAgQAAxkBAAIBlarge', file_unique_id: 'AQADlarge', file_size: 58200, width: 1280, height: 960 },
];
export const VOICE = { duration: 3, mime_type: 'audio/ogg', file_id: 'AwACAgQAAxkBAAIBvoice', file_unique_id: 'AgADvoice', file_size: 9120 };
export const DOCUMENT = { file_name: 'report.pdf', mime_type: 'application/pdf', file_id: 'BQACAgQAAxkBAAIBdoc', file_unique_id: 'AgADdoc', file_size: 48213 };

/** A Bot API answer (https://core.telegram.org/bots/api#making-requests). */
export const ok = (result: unknown): FakeResponse => ({ status: 200, body: { ok: true, result } });
export const failure = (status: number, description: string, parameters?: Json): FakeResponse => ({
  status,
  body: { ok: false, error_code: status, description, ...(parameters ? { parameters } : {}) },
});

/**
 * The Bot API at `<fake>/bot<token>/<method>`. It keeps what Telegram keeps for a bot: the
 * webhook (getUpdates answers 409 while one is set) and the updates not yet confirmed, which
 * getUpdates hands out from `offset` on (an offset confirms every update below it). Sends answer
 * a Message with increasing ids; a test overrides any method with `route('/bot<token>/<method>')`.
 */
export class FakeTelegramApi extends FakePlatformApi {
  webhookUrl = '';
  private pending: Json[] = [];
  private nextMessageId = 500;

  constructor(readonly token = BOT_TOKEN) {
    super();
  }

  pathOf(method: string): string {
    return `/bot${this.token}/${method}`;
  }

  /** Parameters of every call to `method`, in order (JSON bodies, and multipart fields as text or `{file}`). */
  async calls(method: string): Promise<Json[]> {
    return Promise.all(this.requestsTo(this.pathOf(method)).map(parametersOf));
  }

  /** Updates for getUpdates to hand out. */
  queueUpdates(...updates: Json[]): void {
    this.pending.push(...updates);
  }

  protected answer(request: RecordedRequest): FakeResponse {
    const path = pathOf(request);
    const override = this.routes.get(path);
    if (override) return override(request);
    const prefix = `/bot${this.token}/`;
    if (!path.startsWith(prefix)) return { status: 401, body: { ok: false, error_code: 401, description: 'Unauthorized' } };
    const method = path.slice(prefix.length);
    const params = request.headers['content-type']?.startsWith('application/json')
      ? (JSON.parse(request.body.toString('utf8') || '{}') as Json)
      : // A multipart upload: only its chat_id matters for the answer.
        { chat_id: /name="chat_id"\r\n\r\n([^\r]*)/.exec(request.body.toString('latin1'))?.[1] };
    switch (method) {
      case 'getMe':
        return ok(BOT_USER);
      case 'getUpdates':
        return this.getUpdates(params);
      case 'setWebhook':
        this.webhookUrl = String(params.url ?? '');
        return { status: 200, body: { ok: true, result: true, description: 'Webhook was set' } };
      case 'deleteWebhook':
        this.webhookUrl = '';
        return { status: 200, body: { ok: true, result: true, description: 'Webhook was deleted' } };
      case 'getWebhookInfo':
        return ok({ url: this.webhookUrl, has_custom_certificate: false, pending_update_count: this.pending.length });
      case 'sendMessage':
      case 'sendPhoto':
        return ok({ message_id: this.nextMessageId++, from: BOT_USER, chat: { id: Number(params.chat_id ?? 0) }, date: Math.floor(Date.now() / 1000) });
      default:
        return failure(404, 'Not Found');
    }
  }

  private getUpdates(params: Json): FakeResponse {
    if (this.webhookUrl !== '') return failure(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
    const offset = typeof params.offset === 'number' ? params.offset : 0;
    this.pending = this.pending.filter((u) => (u.update_id as number) >= offset);
    if (this.pending.length > 0) return ok(this.pending.slice(0, typeof params.limit === 'number' ? params.limit : 100));
    // A long poll with nothing to hand out: answer empty after a short while (not `timeout`, to keep tests quick).
    return { ...ok([]), wait: new Promise((resolve) => setTimeout(resolve, 100)) };
  }
}

async function parametersOf(request: RecordedRequest): Promise<Json> {
  const type = request.headers['content-type'] ?? '';
  if (type.startsWith('multipart/form-data')) {
    const form = await new Response(request.body, { headers: { 'content-type': type } }).formData();
    const out: Json = {};
    for (const [key, value] of form.entries()) {
      out[key] = typeof value === 'string' ? value : { file: Buffer.from(await value.arrayBuffer()), name: value.name, type: value.type };
    }
    return out;
  }
  return request.body.length === 0 ? {} : (JSON.parse(request.body.toString('utf8')) as Json);
}
