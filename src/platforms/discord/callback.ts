import type { KeyObject } from 'node:crypto';
import { InteractionResponseType, InteractionType } from 'discord-api-types/v10';
import { ImgateError } from '../../core/errors.ts';
import type { CallbackOutcome, HttpReply, InboundRequest } from '../_kit/adapter.ts';
import { parseJsonBody } from '../_kit/json-body.ts';
import { displayText, isJsonObject } from '../_kit/payload-values.ts';
import type { DiscordChannelConfig } from './config.ts';
import { normalizeDiscordCommand } from './interaction.ts';
import { verifyDiscordRequest } from './verify.ts';

const PONG: HttpReply = { status: 200, contentType: 'application/json', body: { type: InteractionResponseType.Pong } };

/**
 * The answer to a slash command once it is stored: DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE (type 5).
 * Discord shows "<bot> is thinking…" and gives the bot 15 minutes to answer through the send API,
 * whose first reply to the event replaces that line. Answering with the bot's reply itself (type 4)
 * would need it within Discord's 3 seconds, which a bot behind a webhook cannot promise.
 */
export const DEFERRED_ACK: HttpReply = {
  status: 200,
  contentType: 'application/json',
  body: { type: InteractionResponseType.DeferredChannelMessageWithSource },
};

export interface InteractionContext {
  config: DiscordChannelConfig;
  /** The application's Public Key; null when the channel has none, and then interactions are refused. */
  publicKey: KeyObject | null;
}

/**
 * `POST /hooks/<id>`, an HTTP interaction (the application's Interactions Endpoint URL): the
 * signature is checked before anything else (401 otherwise); a PING is answered PONG and not
 * stored; an APPLICATION_COMMAND is stored, then acknowledged as deferred. Other interactions
 * (components, autocomplete, modals) are not built: 400, which Discord shows as a failed interaction.
 */
export function handleDiscordInteraction(ctx: InteractionContext, req: InboundRequest): CallbackOutcome {
  const { config } = ctx;
  if (req.method !== 'POST') throw new ImgateError('IMG_ERR_INBOUND_METHOD', { message: 'Discord interactions are POST requests' });
  if (ctx.publicKey === null) {
    throw new ImgateError('IMG_ERR_INBOUND_UNSUPPORTED', {
      message: `channel "${config.id}" has no publicKey: set the application's Public Key (General Information in the developer portal) to receive interactions here`,
    });
  }
  verifyDiscordRequest(ctx.publicKey, config.timestampWindowSeconds, req);
  const body = parseJsonBody(req.rawBody);
  if (!isJsonObject(body)) throw new ImgateError('IMG_ERR_INBOUND_MALFORMED', { message: 'the interaction is not a JSON object' });
  if (body.type === InteractionType.Ping) return { kind: 'reply', reply: PONG };
  if (body.type === InteractionType.ApplicationCommand) {
    return { kind: 'events', events: [normalizeDiscordCommand(body, req.receivedAt)], ack: DEFERRED_ACK };
  }
  throw new ImgateError('IMG_ERR_INBOUND_UNSUPPORTED', {
    message: `interactions of type ${displayText(body.type)} are not handled: imgate takes PING (1) and application commands (2)`,
  });
}
