import type { AdapterDeps, ConnectionSession } from '../_kit/adapter.ts';
import { freshGatewayState, holdOpGateway, type GatewayProtocol } from '../_kit/op-gateway.ts';
import { openQqGateway, qqCredential } from './api.ts';
import type { QqChannelConfig } from './config.ts';
import { normalizeQqDispatch } from './normalize.ts';

/**
 * QQ's close codes (event-emit.md, "错误码"): after 4006 (invalid session id), 4007 (invalid seq) and
 * 4900–4913 (internal errors) the next connection identifies afresh; 4009 (session timed out) is
 * resumed, as QQ asks. 4010–4014, 4914 and 4915 need the operator.
 */
const SESSION_ENDING_CLOSES: ReadonlySet<number> = new Set([4006, 4007, ...Array.from({ length: 14 }, (_, i) => 4900 + i)]);
const FATAL_CLOSES: Readonly<Record<number, string>> = {
  4010: 'QQ refused the shard (4010)',
  4011: 'the bot is in too many guilds for one gateway connection (4011): imgate does not shard',
  4012: 'QQ refused the gateway version (4012)',
  4013: "QQ refused the intents (4013): check the channel's intents",
  4014: "QQ refused an intent the bot may not use (4014): leave it out of the channel's intents (PUBLIC_GUILD_MESSAGES for public bots, GUILD_MESSAGES for private ones)",
  4914: 'QQ closed the gateway (4914): the bot is offline (下架) and may connect only to the sandbox (apiBase https://sandbox.api.sgroup.qq.com)',
  4915: 'QQ closed the gateway (4915): the bot is banned (封禁)',
};

/**
 * WebSocket mode (`mode: websocket`): QQ's gateway, which speaks Discord's op codes, through the
 * shared client. Each connection asks `/gateway` for the URL with a current access token,
 * identifies (or resumes) with `QQBot {token}` and the configured intents, and stores the four
 * message events exactly as webhook mode does; a dispatch counts as seen only once stored, so a
 * drop resumes before anything unstored.
 */
export function qqGatewayConnection(config: QqChannelConfig, deps: Pick<AdapterDeps, 'tokens' | 'sink' | 'logger'>) {
  const credential = qqCredential(config);
  const state = freshGatewayState();
  return async (session: ConnectionSession): Promise<void> => {
    let opened;
    try {
      opened = await openQqGateway(deps.tokens, credential, session.signal);
    } catch (error) {
      if (session.signal.aborted) return;
      throw error;
    }
    const { url, token } = opened;
    await holdOpGateway({
      url,
      protocol: qqProtocol(`QQBot ${token}`, config.intents),
      state,
      session,
      dispatch: async (frame, bytes) => {
        let event;
        try {
          event = normalizeQqDispatch({ op: 0, t: frame.t, d: frame.d }, new Date());
        } catch (error) {
          // Failing on it would end the connection, and the RESUME would bring it back for ever.
          deps.logger.warn({ err: error, dispatch: frame.t, seq: frame.s }, 'passed over a QQ dispatch that could not be read');
          return;
        }
        if (event !== null) await deps.sink.ingest([event], bytes);
      },
      logger: deps.logger,
    });
  };
}

function qqProtocol(authorization: string, intents: number): GatewayProtocol {
  return {
    name: "QQ's gateway",
    identify: { token: authorization, intents, shard: [0, 1], properties: {} },
    resume: (sessionId, seq) => ({ token: authorization, session_id: sessionId, seq }),
    fatalCloses: FATAL_CLOSES,
    sessionEndingCloses: SESSION_ENDING_CLOSES,
  };
}
