import { setTimeout as sleep } from 'node:timers/promises';
import QRCode from 'qrcode';
import type { LoginView } from '../platforms/_kit/adapter.ts';
import { loadConfigFile } from '../config/load.ts';
import { callGateway, defaultGatewayUrl } from './client.ts';
import { resolveConfigPath } from './config-path.ts';

/** How often the login's state is asked for; the gateway follows iLink's long poll meanwhile. */
const POLL_MS = 1000;
/** Somewhat longer than the gateway gives a login (480 s): the gateway ends it first. */
const GIVE_UP_MS = 500_000;

/**
 * `imgate login <channel>`: asks the running gateway to start the channel's login
 * (`POST /v1/channels/<id>/login`), prints each QR code it gets in the terminal, and follows
 * `GET /v1/channels/<id>/login` until the login is confirmed or over. The gateway does the
 * platform calls and keeps the token, so this needs only the admin token.
 */
export async function loginCommand(channel: string, options: { config?: string; url?: string; adminToken?: string }): Promise<void> {
  const config = loadConfigFile(resolveConfigPath(options.config).path);
  const url = options.url ?? defaultGatewayUrl(config);
  const token = options.adminToken ?? process.env.IMGATE_ADMIN_TOKEN ?? config.admin.token;
  if (!token) throw new Error('no admin token: pass --admin-token or set IMGATE_ADMIN_TOKEN');
  const path = `${url}/v1/channels/${encodeURIComponent(channel)}/login`;
  let view = ((await callGateway(path, { method: 'POST', token })) as { login: LoginView }).login;
  let shown: string | null = null;
  const deadline = Date.now() + GIVE_UP_MS;
  for (;;) {
    if (view.qrcodeUrl !== null && view.qrcodeUrl !== shown) {
      shown = view.qrcodeUrl;
      process.stdout.write(`${await QRCode.toString(shown, { type: 'terminal', small: true })}\nScan with WeChat, or open ${shown} in WeChat.\n`);
    }
    process.stdout.write(`${view.status}: ${view.message ?? ''}\n`);
    if (view.status === 'confirmed') return;
    if (view.status === 'expired' || view.status === 'failed') throw new Error(`the login did not complete: ${view.message ?? view.status}`);
    if (Date.now() > deadline) throw new Error('the login did not complete in time');
    let next: LoginView | null;
    do {
      await sleep(POLL_MS);
      next = ((await callGateway(path, { method: 'GET', token })) as { login: LoginView | null }).login;
    } while (next !== null && next.updatedAt === view.updatedAt && Date.now() < deadline);
    if (next !== null) view = next;
  }
}
