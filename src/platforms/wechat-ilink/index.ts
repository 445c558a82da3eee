import { ImgateError } from '../../core/errors.ts';
import type { AdapterDeps, ChannelAdapter, PlatformDefinition } from '../_kit/adapter.ts';
import { wechatIlinkChannelSchema, type WechatIlinkChannelConfig } from './config.ts';
import { ilinkLogin } from './login.ts';
import { pollIlinkUpdates } from './long-poll.ts';
import { sendIlinkMessage } from './send.ts';

export const wechatIlink: PlatformDefinition<typeof wechatIlinkChannelSchema> = {
  id: 'wechat-ilink',
  configSchema: wechatIlinkChannelSchema,
  create: (config, deps) => createWechatIlinkAdapter(config, deps),
};

/**
 * Personal WeChat through the iLink bot API: a QR login (`login`), messages from the `getupdates`
 * long poll under the runtime's lease (`connect`), answers with sendmessage (`send`).
 */
export function createWechatIlinkAdapter(config: WechatIlinkChannelConfig, deps: AdapterDeps): ChannelAdapter {
  const loginWaiters = new Set<() => void>();
  // A login's polling runs until the node stops: runBackground lends the node's shutdown signal.
  let nodeSignal = new AbortController().signal;
  return {
    handleCallback: () => {
      throw new ImgateError('IMG_ERR_INBOUND_UNSUPPORTED', { message: 'wechat-ilink channels pull their messages from iLink; nothing is posted to /hooks' });
    },
    send: (req) => sendIlinkMessage({ config, values: deps.values, downloads: deps.downloads }, req),
    connect: (session) => pollIlinkUpdates({ config, deps, loginWaiters }, session),
    runBackground: (signal) => {
      nodeSignal = signal;
      return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    },
    login: ilinkLogin({
      config,
      values: deps.values,
      logger: deps.logger,
      signal: () => nodeSignal,
      onConfirmed: () => {
        for (const wake of loginWaiters) wake();
      },
    }),
  };
}

export type { WechatIlinkChannelConfig } from './config.ts';
