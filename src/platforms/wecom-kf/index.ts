import type { AdapterDeps, ChannelAdapter, PlatformDefinition } from '../_kit/adapter.ts';
import { wecomCredential } from '../_kit/wecom-api.ts';
import { wecomCallbackKeys, type WecomCallbackKeys } from '../_kit/wecom-callback.ts';
import { handleWecomKfCallback } from './callback.ts';
import { wecomKfChannelSchema, type WecomKfChannelConfig } from './config.ts';
import { KfPuller, type PullReason } from './pull.ts';
import { sendWecomKfMessage } from './send.ts';
import { simulateWecomKf } from './simulate.ts';

export const wecomKf: PlatformDefinition<typeof wecomKfChannelSchema> = {
  id: 'wecom-kf',
  configSchema: wecomKfChannelSchema,
  create: createWecomKfAdapter,
  simulate: simulateWecomKf,
  wecomCredential,
  kfManager: (config) => ({ callbackKeys: callbackKeysOf(config) }),
};

/** Customer-service callbacks are encrypted for the CorpID, like an app's (https://developer.work.weixin.qq.com/document/path/90968). */
function callbackKeysOf(config: WecomKfChannelConfig): WecomCallbackKeys {
  return wecomCallbackKeys({
    token: config.token,
    encodingAESKey: config.encodingAESKey,
    receiveId: config.corpId,
    timestampWindowSeconds: config.timestampWindowSeconds,
  });
}

export function createWecomKfAdapter(config: WecomKfChannelConfig, deps: AdapterDeps): ChannelAdapter {
  const keys = callbackKeysOf(config);
  const puller = new KfPuller({ credential: wecomCredential(config), deps });
  /**
   * Accounts named by a callback since start, and those pulled before (they have a stored cursor):
   * polled along with `openKfIds`, so a customer who wrote while imgate was down is not left waiting.
   */
  const seen = new Set<string>();

  const startPull = (openKfId: string, token: string | null, reason: PullReason): void => {
    seen.add(openKfId);
    if (deps.handedOff(openKfId)) {
      deps.logger.info({ openKfId }, 'wecom-kf account is owned by a registered puppet; not pulled here');
      return;
    }
    deps.logger.debug({ openKfId, reason }, 'wecom-kf pulling in the background');
    // request() never rejects: a failed pull is logged and retried by the next notice or poll.
    void puller.request(openKfId, token, reason);
  };

  return {
    handleCallback: (req) => handleWecomKfCallback(keys, deps, req, startPull),
    // No dedupedByPlatform: WeCom documents `msgid` as echoed back, not that a repeat is dropped,
    // so a send whose answer was lost is not tried again.
    send: (req) => sendWecomKfMessage(config, deps, req),
    runPoller: async (signal) => {
      for (const openKfId of await deps.cursors.keys()) seen.add(openKfId);
      const accounts = () => [...new Set([...config.openKfIds, ...seen])];
      await pollUntilStopped(config, puller, accounts, deps.handedOff, signal);
    },
    pullKfAccount: (openKfId, callbackToken) => startPull(openKfId, callbackToken, 'callback'),
  };
}

/**
 * The fallback for notices that never came: every `pollIntervalSeconds`, starting at once (to
 * catch up on what arrived while imgate was down), each known account is pulled without a Token.
 * Accounts are pulled one after another: without a Token sync_msg is strictly rate limited.
 * On abort no new pull starts, and one under way stops after the page it is storing.
 */
async function pollUntilStopped(
  config: WecomKfChannelConfig,
  puller: KfPuller,
  accounts: () => string[],
  handedOff: (openKfId: string) => boolean,
  signal: AbortSignal,
): Promise<void> {
  // Stopping the puller at once is what makes a pull under way (and so this loop) end promptly.
  const stop = () => void puller.stop();
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
  if (config.pollIntervalSeconds > 0) {
    while (!signal.aborted) {
      for (const openKfId of accounts()) {
        if (signal.aborted) break;
        // Asked before each pull, not once per round: a puppet may register while earlier accounts are pulled.
        // An account a puppet owns is left to it, and polled again once the puppet deregisters.
        if (handedOff(openKfId)) continue;
        await puller.request(openKfId, null, 'poll');
      }
      await sleep(config.pollIntervalSeconds * 1000, signal);
    }
  } else {
    await sleep(Infinity, signal);
  }
  await puller.stop();
}

/** Resolves after `ms` (never, for Infinity) or when `signal` aborts, whichever comes first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
    signal.addEventListener('abort', done, { once: true });
  });
}

export type { WecomKfChannelConfig } from './config.ts';
export { buildWecomKfSample } from './simulate.ts';
