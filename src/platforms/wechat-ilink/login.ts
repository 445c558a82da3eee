import { setTimeout as sleep } from 'node:timers/promises';
import QRCode from 'qrcode';
import type { Logger } from 'pino';
import { ImgateError } from '../../core/errors.ts';
import { SecretBox } from '../../core/secret-box.ts';
import type { ChannelLogin, ChannelValues, LoginView } from '../_kit/adapter.ts';
import { isJsonObject, scalarText } from '../_kit/payload-values.ts';
import { callIlink } from './api.ts';
import { activeBot, LOGIN_KEY, saveBot } from './bot-session.ts';
import { ILINK_API_BASE, type WechatIlinkChannelConfig } from './config.ts';

/** How long get_qrcode_status may hold an answer (the official client waits 35 s). */
const STATUS_TIMEOUT_MS = 35_000;
/** Pause between status polls that answered at once, as the official client pauses 1 s. */
const POLL_PAUSE_MS = 1000;
/** Fresh codes after the first expires; then the login gives up (the official client's limit is 3). */
const MAX_REFRESHES = 3;
/** A login left unconfirmed this long is given up (the official client's default, 480 s). */
const LOGIN_DEADLINE_MS = 480_000;

export interface LoginDeps {
  config: WechatIlinkChannelConfig;
  values: ChannelValues;
  logger: Logger;
  /** Called once a login is confirmed and stored, so a waiting long poll starts. */
  onConfirmed(): void;
  /** The node's shutdown signal (from runBackground), under which a login's polling runs. */
  signal(): AbortSignal;
}

/**
 * The QR login of the iLink bot API (the official client's `src/auth/login-qr.ts`):
 * `get_bot_qrcode?bot_type=` gives a code whose `qrcode_img_content` a person opens in WeChat,
 * `get_qrcode_status?qrcode=` is followed through `wait`, `scaned`, `scaned_but_redirect` (poll
 * `redirect_host` from then on), `expired` (a fresh code, up to three times) and `confirmed`
 * (`bot_token`, `ilink_bot_id`, `ilink_user_id`, `baseurl`). The token is sealed into the store;
 * the state of the login is stored as well, so any node answers `GET /v1/channels/:id/login`.
 */
export function ilinkLogin(deps: LoginDeps): ChannelLogin {
  let running: Promise<void> | null = null;
  let current: LoginView | null = null;

  const publish = async (view: Omit<LoginView, 'updatedAt'>): Promise<LoginView> => {
    current = { ...view, updatedAt: new Date().toISOString() };
    await deps.values.put(LOGIN_KEY, JSON.stringify(current));
    return current;
  };

  return {
    async start() {
      if (running !== null && current !== null) return current;
      // Refused before a code is shown: a confirmed login could not be kept.
      SecretBox.fromEnvironment();
      const code = await fetchCode(deps.config);
      const view = await publish({ status: 'wait', ...(await qrOf(code.url)), message: 'scan the QR code with WeChat' });
      running = follow(deps, code, publish)
        .catch(async (error: unknown) => {
          deps.logger.warn({ err: error }, 'wechat-ilink login failed');
          await publish({ status: 'failed', qrcodeUrl: null, qrImage: null, message: error instanceof ImgateError ? error.message : 'the login failed' }).catch(() => undefined);
        })
        .finally(() => (running = null));
      return view;
    },
    async view() {
      const stored = await deps.values.get(LOGIN_KEY);
      return stored === null ? null : (JSON.parse(stored) as LoginView);
    },
    async needed() {
      try {
        return (await activeBot(deps.values)) === null;
      } catch {
        return true;
      }
    },
  };
}

interface QrCode {
  id: string;
  url: string;
}

async function fetchCode(config: WechatIlinkChannelConfig): Promise<QrCode> {
  // The official client posts its existing tokens here; imgate keeps one per channel and sends none.
  const answer = await callIlink({ base: config.apiBase ?? ILINK_API_BASE, path: `ilink/bot/get_bot_qrcode?bot_type=${encodeURIComponent(config.botType)}`, body: { local_token_list: [] }, repeatable: true });
  const id = scalarText(answer.qrcode);
  const url = scalarText(answer.qrcode_img_content);
  if (id === null || url === null) throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: 'iLink answered get_bot_qrcode without a qrcode and its qrcode_img_content' });
  return { id, url };
}

async function qrOf(url: string): Promise<{ qrcodeUrl: string; qrImage: string }> {
  return { qrcodeUrl: url, qrImage: await QRCode.toDataURL(url) };
}

async function follow(deps: LoginDeps, first: QrCode, publish: (view: Omit<LoginView, 'updatedAt'>) => Promise<LoginView>): Promise<void> {
  const { config } = deps;
  const signal = deps.signal();
  let code = first;
  let base = config.apiBase ?? ILINK_API_BASE;
  let refreshes = 0;
  const deadline = Date.now() + LOGIN_DEADLINE_MS;
  while (!signal.aborted && Date.now() < deadline) {
    let answer: Record<string, unknown>;
    try {
      answer = await callIlink({ base, path: `ilink/bot/get_qrcode_status?qrcode=${encodeURIComponent(code.id)}`, signal, timeoutMs: STATUS_TIMEOUT_MS });
    } catch (error) {
      if (error instanceof ImgateError && error.code === 'IMG_ERR_PLATFORM_REJECTED') throw error;
      // A timed-out long poll or a dropped connection: as the official client, ask again.
      answer = { status: 'wait' };
    }
    const status = scalarText(answer.status);
    if (status === 'confirmed') {
      const token = scalarText(answer.bot_token);
      const botId = scalarText(answer.ilink_bot_id);
      if (token === null || botId === null) throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: 'iLink confirmed the login without bot_token and ilink_bot_id' });
      await saveBot(deps.values, { token, botId, userId: scalarText(answer.ilink_user_id), baseUrl: scalarText(answer.baseurl) });
      await publish({ status: 'confirmed', qrcodeUrl: null, qrImage: null, message: `logged in as ${botId}` });
      deps.logger.info({ botId }, 'wechat-ilink login confirmed');
      deps.onConfirmed();
      return;
    }
    if (status === 'scaned' || status === 'scaned_but_redirect') {
      const host = scalarText(answer.redirect_host);
      // The other data centre keeps the scheme of apiBase (https in production).
      if (status === 'scaned_but_redirect' && host !== null && /^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(host)) base = `${new URL(base).protocol}//${host}`;
      await publish({ status: 'scanned', ...(await qrOf(code.url)), message: 'scanned: confirm the login on the phone' });
    } else if (status === 'expired') {
      refreshes += 1;
      if (refreshes > MAX_REFRESHES) {
        await publish({ status: 'expired', qrcodeUrl: null, qrImage: null, message: 'the QR codes expired unscanned: start the login again' });
        return;
      }
      code = await fetchCode(config);
      base = config.apiBase ?? ILINK_API_BASE;
      await publish({ status: 'wait', ...(await qrOf(code.url)), message: 'the code expired: scan this fresh one' });
      continue;
    } else if (status !== 'wait' && isJsonObject(answer)) {
      throw new ImgateError('IMG_ERR_PLATFORM_REJECTED', { message: `iLink answered the login with status ${status ?? '(none)'}, which imgate does not handle; start it again` });
    }
    await sleep(POLL_PAUSE_MS, undefined, { signal }).catch(() => undefined);
  }
}
