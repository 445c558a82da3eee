import { ImgateError } from '../../core/errors.ts';
import { SecretBox } from '../../core/secret-box.ts';
import type { ChannelValues } from '../_kit/adapter.ts';
import { isJsonObject, scalarText } from '../_kit/payload-values.ts';

/** The channel's values in the store (its cursors table). */
export const BOT_KEY = 'ilink.bot';
export const SESSION_KEY = 'ilink.session';
export const LOGIN_KEY = 'ilink.login';
export const UPDATES_BUF_CURSOR = 'ilink.get_updates_buf';
/** The latest `context_token` of a user, which a send to them must carry. */
export const contextTokenKey = (userId: string) => `ilink.context:${userId}`;

/** A user's latest `context_token` as stored, with the create_time_ms of its message. */
export interface StoredContextToken {
  token: string;
  at: number;
}

export function parseContextToken(stored: string | null): StoredContextToken | null {
  if (stored === null) return null;
  const parsed: unknown = JSON.parse(stored);
  const token = isJsonObject(parsed) ? scalarText(parsed.token) : null;
  return isJsonObject(parsed) && token !== null ? { token, at: typeof parsed.at === 'number' ? parsed.at : 0 } : null;
}

/** What a confirmed login gives (get_qrcode_status `confirmed`). */
export interface IlinkBot {
  token: string;
  botId: string;
  userId: string | null;
  /** The API host the login named (`baseurl`), else null: the channel's apiBase. */
  baseUrl: string | null;
}

/** Seals the bot token with IMGATE_SECRET_KEY and marks the session active. */
export async function saveBot(values: ChannelValues, bot: IlinkBot): Promise<void> {
  await values.put(BOT_KEY, SecretBox.fromEnvironment().seal(JSON.stringify(bot)));
  await values.put(SESSION_KEY, 'active');
}

/** The logged-in bot, or null when there is none or WeChat ended its session (-14). */
export async function activeBot(values: ChannelValues): Promise<IlinkBot | null> {
  const [sealed, session] = await Promise.all([values.get(BOT_KEY), values.get(SESSION_KEY)]);
  if (sealed === null || session !== 'active') return null;
  const parsed: unknown = JSON.parse(SecretBox.fromEnvironment().open(sealed));
  const token = isJsonObject(parsed) ? scalarText(parsed.token) : null;
  if (!isJsonObject(parsed) || token === null) return null;
  return { token, botId: scalarText(parsed.botId) ?? '', userId: scalarText(parsed.userId), baseUrl: scalarText(parsed.baseUrl) };
}

/** The logged-in bot, or IMG_ERR_LOGIN_NEEDED. */
export async function requireBot(values: ChannelValues, channelId: string): Promise<IlinkBot> {
  const bot = await activeBot(values);
  if (bot === null) {
    throw new ImgateError('IMG_ERR_LOGIN_NEEDED', { message: `channel ${channelId} is not logged in to WeChat (or its session ended): run imgate login ${channelId}` });
  }
  return bot;
}
