import type { NormalizedEvent } from '../../core/event.ts';
import { ImgateError } from '../../core/errors.ts';
import { CursorMovedError, type IngestOutcome } from '../../store/store.ts';
import type { AdapterDeps } from '../_kit/adapter.ts';
import { isPlatformOutage, OutageLog } from '../_kit/outage-log.ts';
import { callWecomApi, type WecomCredential } from '../_kit/wecom-api.ts';
import { normalizeKfMessage } from './normalize.ts';

type Json = Record<string, unknown>;

/** The most `kf/sync_msg` returns per call (https://kf.weixin.qq.com/api/doc/path/94745). */
const PAGE_LIMIT = 1000;
/** errcode of a callback Token that is invalid or older than its 10 minutes. */
const INVALID_MSG_TOKEN = 95007;

/** Why a pull was asked for; a poll never queues another pull behind a running one. */
export type PullReason = 'callback' | 'poll';

interface Lane {
  /** The pull under way for this account, including any queued after it. */
  running: Promise<void> | null;
  /** Asked for while a pull ran: one more pull after it, with the newest callback token. */
  again: { token: string | null } | null;
}

export interface KfPullerOptions {
  credential: WecomCredential;
  deps: AdapterDeps;
  now?: () => Date;
}

/**
 * Pulls customer-service messages with `kf/sync_msg` and stores them page by page together with
 * each page's `next_cursor`, so that a crash between two pages (or two pulls) resumes exactly
 * after the last stored page: nothing is pulled twice past a commit and nothing is skipped.
 *
 * Pulls of one account (`open_kfid`) never overlap in this process: two at once would read the
 * same cursor and race to store theirs. Across nodes they may (a callback lands on any node), so
 * each page's cursor is stored only if it is still the one the pull read; otherwise nothing of the
 * page is stored and the pull goes on from the cursor the other node stored. A callback arriving during a pull queues exactly one more
 * pull after it (however many arrive), because the running one may already have passed the
 * message that callback announces.
 */
export class KfPuller {
  private readonly lanes = new Map<string, Lane>();
  /** Per account: WeCom out of reach is logged once per outage, not at every poll. */
  private readonly outages = new Map<string, OutageLog>();
  private stopping = new AbortController();
  private readonly now: () => Date;

  constructor(private readonly options: KfPullerOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Pulls `openKfId` now, or once the pull under way has finished. Resolves when this account has
   * no pull left to do; never rejects (failures are logged and the next callback or poll retries
   * from the stored cursor).
   */
  request(openKfId: string, token: string | null, reason: PullReason): Promise<void> {
    if (this.stopping.signal.aborted) {
      this.options.deps.logger.info({ openKfId }, 'wecom-kf pull not started: the channel is stopping');
      return Promise.resolve();
    }
    let lane = this.lanes.get(openKfId);
    if (!lane) {
      lane = { running: null, again: null };
      this.lanes.set(openKfId, lane);
    }
    if (lane.running) {
      // The callback token is what lifts sync_msg's strict throttling: keep the newest one.
      if (reason === 'callback') lane.again = { token: token ?? lane.again?.token ?? null };
      return lane.running;
    }
    lane.running = this.drain(openKfId, lane, token);
    return lane.running;
  }

  /**
   * No new pulls; pulls under way stop after the page they are storing. Resolves once all have, and
   * then takes requests again: the poller stops it when this node loses the poller's lease, and
   * notices reaching this node must still be pulled (as must the polls if the lease comes back).
   */
  async stop(): Promise<void> {
    const stopping = this.stopping;
    stopping.abort();
    await Promise.all([...this.lanes.values()].map((lane) => lane.running));
    if (this.stopping === stopping) this.stopping = new AbortController();
  }

  private async drain(openKfId: string, lane: Lane, firstToken: string | null): Promise<void> {
    let token = firstToken;
    try {
      for (;;) {
        try {
          await this.pullOnce(openKfId, token);
          this.options.deps.reportPulled();
        } catch (error) {
          this.logFailure(openKfId, error);
        }
        const again = lane.again;
        lane.again = null;
        if (again === null || this.stopping.signal.aborted) return;
        token = again.token;
      }
    } finally {
      // Runs in the same tick as the last check above, so no request can slip in between and be lost.
      lane.running = null;
    }
  }

  /** One pull: page after page from the stored cursor while WeCom says `has_more`. */
  private async pullOnce(openKfId: string, callbackToken: string | null): Promise<void> {
    const { deps } = this.options;
    let cursor = await deps.cursors.get(openKfId);
    let token = callbackToken;
    let pages = 0;
    let stored = 0;
    let duplicates = 0;
    for (;;) {
      const answer = await this.fetchPage(openKfId, cursor, token).catch((error: unknown) => {
        // An expired callback Token does not make the messages unreachable: pull without it.
        if (token !== null && errcodeOf(error) === INVALID_MSG_TOKEN) {
          deps.logger.info({ openKfId }, 'wecom-kf callback token expired or invalid; pulling without it');
          token = null;
          return 'retry' as const;
        }
        throw error;
      });
      if (answer === 'retry') continue;
      // Stopped before WeCom answered: nothing of this page was stored and the cursor did not
      // move, so the next start pulls the same page again.
      if (answer === 'stopped') break;
      this.outageOf(openKfId).recovered();
      pages += 1;

      const pulledAt = this.now();
      const events = this.normalizePage(openKfId, answer.msg_list, pulledAt);
      const nextCursor = typeof answer.next_cursor === 'string' && answer.next_cursor !== '' ? answer.next_cursor : null;
      // Each event keeps its own msg_list entry as its raw bytes (normalizePage); the page itself
      // stands for a page without events, which only moves the cursor.
      const rawBody = Buffer.from(JSON.stringify(answer), 'utf8');
      // Events and cursor in one transaction: even a page with no events stores its cursor, and only
      // if no pull on another node moved it since this one read it.
      const outcomes = await this.storePage(openKfId, events, rawBody, cursor, nextCursor);
      if (outcomes === 'moved') {
        deps.logger.info({ openKfId }, 'wecom-kf cursor moved by a pull on another node; pulling on from it');
        cursor = await deps.cursors.get(openKfId);
        continue;
      }
      for (const outcome of outcomes) {
        if (outcome.status === 'stored') stored += 1;
        else duplicates += 1;
      }

      if (Number(answer.has_more) !== 1) break;
      if (nextCursor === null || nextCursor === cursor) {
        deps.logger.warn({ openKfId, pages }, 'wecom-kf sync_msg said has_more without a new cursor; this pull stops here');
        break;
      }
      cursor = nextCursor;
      if (this.stopping.signal.aborted) break;
    }
    deps.logger.info(
      { openKfId, pages, stored, duplicates, withCallbackToken: callbackToken !== null },
      'wecom-kf pulled messages',
    );
  }

  /** Stores a page with its cursor, or answers 'moved' (nothing stored) if another pull moved the cursor meanwhile. */
  private async storePage(
    openKfId: string,
    events: NormalizedEvent[],
    rawBody: Buffer,
    readCursor: string | null,
    nextCursor: string | null,
  ): Promise<IngestOutcome[] | 'moved'> {
    const { sink } = this.options.deps;
    if (nextCursor === null) return sink.ingest(events, rawBody);
    try {
      return await sink.ingest(events, rawBody, { cursor: { key: openKfId, value: nextCursor, expected: readCursor } });
    } catch (error) {
      if (error instanceof CursorMovedError) return 'moved';
      throw error;
    }
  }

  /** `POST /cgi-bin/kf/sync_msg`, or 'stopped' when the channel stops before WeCom answers. */
  private async fetchPage(openKfId: string, cursor: string | null, token: string | null): Promise<Json | 'stopped'> {
    const signal = this.stopping.signal;
    if (signal.aborted) return 'stopped';
    const body: Json = { limit: PAGE_LIMIT, open_kfid: openKfId };
    if (cursor !== null) body.cursor = cursor;
    if (token !== null) body.token = token;
    const call = callWecomApi(this.options.deps.tokens, this.options.credential, {
      path: '/cgi-bin/kf/sync_msg',
      body,
      explain: {
        [INVALID_MSG_TOKEN]: 'WeCom refused the callback Token for kf/sync_msg: it is invalid or older than 10 minutes (errcode 95007)',
        95000: `WeCom does not know open_kfid "${openKfId}" (errcode 95000): check openKfIds`,
        95004: `open_kfid "${openKfId}" does not exist in this corp (errcode 95004): check openKfIds`,
      },
    });
    // Stopping does not wait for WeCom's answer (up to 10 s): the answer is dropped and the
    // cursor stays where the last stored page left it. A rejection after that is ignored.
    return new Promise((resolve, reject) => {
      const onStop = () => resolve('stopped');
      signal.addEventListener('abort', onStop, { once: true });
      call.then(
        (answer) => {
          signal.removeEventListener('abort', onStop);
          resolve(answer);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onStop);
          reject(error);
        },
      );
    });
  }

  private normalizePage(openKfId: string, list: unknown, pulledAt: Date): NormalizedEvent[] {
    if (!Array.isArray(list)) return [];
    const events: NormalizedEvent[] = [];
    for (const entry of list) {
      const event =
        entry !== null && typeof entry === 'object' && !Array.isArray(entry) ? normalizeKfMessage(entry as Json, { pulledAt }) : null;
      // The entry re-serialized (the kit hands over parsed JSON; long ids stay digit strings).
      if (event) events.push({ ...event, rawBody: Buffer.from(JSON.stringify(entry), 'utf8') });
      else this.options.deps.logger.warn({ openKfId }, 'wecom-kf sync_msg entry without msgid skipped');
    }
    return events;
  }

  /** Logged without the callback token, access token or secret (WeCom's errcode and errmsg are kept). */
  private logFailure(openKfId: string, error: unknown): void {
    const { logger, reportError } = this.options.deps;
    reportError(error);
    if (isPlatformOutage(error)) {
      this.outageOf(openKfId).failed(error);
    } else if (error instanceof ImgateError) {
      logger.warn(
        { openKfId, code: error.code, errcode: error.details?.errcode, errmsg: error.details?.errmsg, reason: error.message },
        'wecom-kf pull failed; the next callback or poll retries from the stored cursor',
      );
    } else {
      logger.error({ openKfId, err: error }, 'wecom-kf pull failed; the next callback or poll retries from the stored cursor');
    }
  }

  private outageOf(openKfId: string): OutageLog {
    let outage = this.outages.get(openKfId);
    if (!outage) {
      outage = new OutageLog(this.options.deps.logger, 'wecom-kf pull', { openKfId });
      this.outages.set(openKfId, outage);
    }
    return outage;
  }
}

function errcodeOf(error: unknown): number | null {
  const errcode = error instanceof ImgateError ? error.details?.errcode : undefined;
  return typeof errcode === 'number' ? errcode : null;
}
