import type { WecomKfChannelConfig } from '../../../src/platforms/wecom-kf/config.ts';
import { wecomKf } from '../../../src/platforms/wecom-kf/index.ts';
import type { FakeResponse, RecordedRequest } from '../../helpers/fake-http.ts';
import { WECOM_KEYS, type FakeWecomApi } from '../../helpers/wecom.ts';

export const KF_SECRET = 'wecom-kf-secret-never-logged';
export const OPEN_KFID = 'wkIMGATEtestAccount01';
export const CUSTOMER = 'wmIMGATEtestCustomer01';
export const SERVICER = 'zhangsan';
export const SYNC_PATH = '/cgi-bin/kf/sync_msg';
export const SEND_PATH = '/cgi-bin/kf/send_msg';

export function channel(overrides: Record<string, unknown> = {}): WecomKfChannelConfig {
  return wecomKf.configSchema.parse({
    id: 'kf-main',
    platform: 'wecom-kf',
    corpId: WECOM_KEYS.corpId,
    corpSecret: KF_SECRET,
    token: WECOM_KEYS.token,
    encodingAESKey: WECOM_KEYS.encodingAESKey,
    pollIntervalSeconds: 0,
    ...overrides,
  });
}

/** The decrypted `kf_msg_or_event` notice (docs/channels/wecom-kf.md). */
export function kfNotice(token: string, openKfId = OPEN_KFID): string {
  return (
    `<xml><ToUserName><![CDATA[${WECOM_KEYS.corpId}]]></ToUserName><CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime>` +
    `<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event>` +
    `<Token><![CDATA[${token}]]></Token><OpenKfId><![CDATA[${openKfId}]]></OpenKfId></xml>`
  );
}

type Entry = Record<string, unknown>;

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A customer's text (origin 3), as `kf/sync_msg` lists it. */
export function customerText(msgid: string, content: string, extra: Entry = {}): Entry {
  return { msgid, open_kfid: OPEN_KFID, external_userid: CUSTOMER, send_time: nowSeconds(), origin: 3, msgtype: 'text', text: { content }, ...extra };
}

/** A servicer's text sent from the WeCom client (origin 5). */
export function servicerText(msgid: string, content: string): Entry {
  return {
    msgid,
    open_kfid: OPEN_KFID,
    external_userid: CUSTOMER,
    send_time: nowSeconds(),
    origin: 5,
    servicer_userid: SERVICER,
    msgtype: 'text',
    text: { content },
  };
}

/** A system event (origin 4); the ids sit inside `event`. */
export function systemEvent(msgid: string, event: Entry): Entry {
  return { msgid, send_time: nowSeconds(), origin: 4, msgtype: 'event', event: { open_kfid: OPEN_KFID, ...event } };
}

export interface SyncPage {
  msg_list: Entry[];
  next_cursor: string;
  has_more?: 0 | 1;
  /** The answer is held back until this settles. */
  wait?: Promise<void>;
}

/** The JSON body of a recorded request. */
export function bodyOf(request: RecordedRequest): Record<string, any> {
  return JSON.parse(request.body.toString('utf8')) as Record<string, any>;
}

/**
 * Scripts `kf/sync_msg` on a fake WeCom API: the page answered depends on the request's cursor
 * ('' = none), as WeCom's does; a cursor without a page answers an empty last page. A page given
 * as a function is asked each time (for answers that change between calls).
 */
export function scriptSyncMsg(api: FakeWecomApi, pages: Record<string, SyncPage | ((body: Record<string, any>) => FakeResponse)>): void {
  api.route(SYNC_PATH, (recorded) => {
    const body = bodyOf(recorded);
    const page = pages[typeof body.cursor === 'string' ? body.cursor : ''];
    if (typeof page === 'function') return page(body);
    if (!page) return { status: 200, body: { errcode: 0, errmsg: 'ok', next_cursor: body.cursor ?? '', has_more: 0, msg_list: [] } };
    const { wait, ...rest } = page;
    const response: FakeResponse = { status: 200, body: { errcode: 0, errmsg: 'ok', has_more: 0, ...rest } };
    if (wait) response.wait = wait;
    return response;
  });
}

export function syncRequests(api: FakeWecomApi): Record<string, any>[] {
  return api.requestsTo(SYNC_PATH).map(bodyOf);
}

export async function until(probe: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
