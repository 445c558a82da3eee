import { GatewayCloseCodes } from 'discord-api-types/v10';
import type { Logger } from 'pino';
import type { ConnectionSession } from '../_kit/adapter.ts';
import { freshGatewayState, holdOpGateway, type GatewayDispatch, type GatewayProtocol, type GatewayState } from '../_kit/op-gateway.ts';
import { jsonObject, scalarText } from '../_kit/payload-values.ts';

/*
 * The Discord Gateway through the shared op-code client (src/platforms/_kit/op-gateway.ts, which
 * says why it is not @discordjs/ws): here is only what is Discord's — the URL (a session is
 * resumed at READY's resume_gateway_url), the identify payload, and the close codes.
 */

const GATEWAY_VERSION = '10';

/** Close codes after which reconnecting as before cannot work: the config must change. */
const FATAL_CLOSES: Record<number, string> = {
  [GatewayCloseCodes.AuthenticationFailed]: "Discord refused the bot token (4004): check the channel's token",
  [GatewayCloseCodes.InvalidShard]: 'Discord refused the shard (4010)',
  [GatewayCloseCodes.ShardingRequired]: 'the bot is in too many servers for one Gateway connection (4011): imgate does not shard',
  [GatewayCloseCodes.InvalidAPIVersion]: 'Discord refused Gateway version 10 (4012)',
  [GatewayCloseCodes.InvalidIntents]: 'Discord refused the intents (4013): check the channel\'s intents',
  [GatewayCloseCodes.DisallowedIntents]:
    'Discord refused a privileged intent the bot has not been granted (4014): enable MESSAGE_CONTENT (or GUILD_MEMBERS, GUILD_PRESENCES) under Bot → Privileged Gateway Intents, or leave it out of intents',
};
/** Close codes after which the session cannot be resumed, but a fresh IDENTIFY can start another. */
const SESSION_ENDING_CLOSES = new Set<number>([GatewayCloseCodes.InvalidSeq, GatewayCloseCodes.SessionTimedOut]);

/** What a RESUME needs, and the bot's own user id (READY's), kept by the adapter between connections. */
export interface DiscordGatewayState extends GatewayState {
  botUserId: string | null;
}

export function freshDiscordGatewayState(): DiscordGatewayState {
  return { ...freshGatewayState(), botUserId: null };
}

export interface DiscordGatewayOptions {
  token: string;
  intents: number;
  /** Where to IDENTIFY: the configured `gatewayUrl`, else what GET /gateway/bot answers. */
  gatewayUrl(signal: AbortSignal): Promise<string>;
  state: DiscordGatewayState;
  session: ConnectionSession;
  /** Takes one dispatch in; resolves once whatever it holds is stored. A rejection ends the connection. */
  dispatch(frame: GatewayDispatch, bytes: Buffer): Promise<void>;
  logger: Logger;
}

/** One Discord Gateway connection (see holdOpGateway), at the resume URL while there is a session to resume. */
export async function holdDiscordGateway(options: DiscordGatewayOptions): Promise<void> {
  const { state, session } = options;
  const base = state.sessionId !== null && state.resumeUrl !== null ? state.resumeUrl : await options.gatewayUrl(session.signal);
  await holdOpGateway({
    url: gatewayAddress(base),
    protocol: discordProtocol(options.token, options.intents),
    state,
    session,
    onReady: (data) => {
      state.botUserId = scalarText(jsonObject(data.user)?.id);
    },
    dispatch: options.dispatch,
    logger: options.logger,
  });
}

function discordProtocol(token: string, intents: number): GatewayProtocol {
  return {
    name: 'the Discord Gateway',
    identify: { token, intents, properties: { os: process.platform, browser: 'imgate', device: 'imgate' } },
    resume: (sessionId, seq) => ({ token, session_id: sessionId, seq }),
    fatalCloses: FATAL_CLOSES,
    sessionEndingCloses: SESSION_ENDING_CLOSES,
  };
}

/** The Gateway URL with the version and encoding imgate speaks. */
export function gatewayAddress(base: string): string {
  const url = new URL(base);
  url.searchParams.set('v', GATEWAY_VERSION);
  url.searchParams.set('encoding', 'json');
  return url.toString();
}
