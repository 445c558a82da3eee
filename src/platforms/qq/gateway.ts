import type { AdapterDeps, ConnectionSession } from '../_kit/adapter.ts';
import { holdOpGateway, type GatewayResumeState } from '../_kit/op-gateway.ts';
import { openQqGateway, qqCredential } from './api.ts';
import type { QqChannelConfig } from './config.ts';
import { normalizeQqDispatch } from './normalize.ts';

/**
 * Close codes after which QQ will not resume the session, so the next connection identifies
 * (event-emit.md, "错误码"): 4006 invalid session id, 4007 invalid seq, 4900–4913 internal errors.
 * 4009 (session timed out) is resumable, as QQ asks.
 */
const FRESH_SESSION_CODES: ReadonlySet<number> = new Set([4006, 4007, ...Array.from({ length: 14 }, (_, i) => 4900 + i)]);

/**
 * WebSocket mode (`mode: websocket`): QQ's gateway, which speaks Discord's op codes. Each
 * connection asks `/gateway` for the URL with a current access token, identifies (or resumes) with
 * `QQBot {token}` and the configured intents, and stores the four message events exactly as webhook
 * mode does; a dispatch counts as seen only once stored, so a drop resumes before anything unstored.
 */
export function qqGatewayConnection(config: QqChannelConfig, deps: Pick<AdapterDeps, 'tokens' | 'sink' | 'logger'>) {
  const credential = qqCredential(config);
  const state: GatewayResumeState = { sessionId: null, seq: null };
  return async (session: ConnectionSession): Promise<void> => {
    const { url, token } = await openQqGateway(deps.tokens, credential);
    if (session.signal.aborted) return;
    const authorization = `QQBot ${token}`;
    await holdOpGateway(
      {
        url,
        identify: { token: authorization, intents: config.intents, shard: [0, 1], properties: {} },
        resume: ({ sessionId, seq }) => ({ token: authorization, session_id: sessionId, seq }),
        onDispatch: async (type, data, raw) => {
          const event = normalizeQqDispatch({ op: 0, t: type, d: data }, new Date());
          if (event !== null) await deps.sink.ingest([event], raw);
        },
        freshSessionCodes: FRESH_SESSION_CODES,
        logger: deps.logger,
      },
      state,
      session,
    );
  };
}
