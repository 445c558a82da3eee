import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ImgateError } from '../../core/errors.ts';
import { inboundRequestOf, keepBodiesRaw, sendReply } from '../inbound-request.ts';
import { recordChannelError } from '../../runtime/channels.ts';
import type { AppContext } from '../context.ts';
import { compileAllowList } from '../../core/ip-allow-list.ts';

interface HookParams {
  channelId: string;
  pathToken?: string;
}


/**
 * `GET|POST /hooks/:channelId[/:pathToken]`: every webhook platform's callbacks. The body is kept
 * as the exact bytes received (signatures cover them, and `format: raw` forwards them), so this
 * context parses nothing itself.
 */
export async function inboundRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  keepBodiesRaw(app);
  // Every answer, refusals included; an id no channel has is counted as `_unknown` (labels stay bounded).
  app.addHook('onResponse', (request, reply, done) => {
    const { channelId } = request.params as HookParams;
    ctx.metrics.inboundRequest(ctx.channels.has(channelId) ? channelId : '_unknown', reply.statusCode);
    done();
  });

  const allowLists = new Map<string, (address: string) => boolean>();
  for (const channel of ctx.channels.values()) {
    if (channel.config.allowIps) allowLists.set(channel.id, compileAllowList(channel.config.allowIps));
  }

  const handle = async (request: FastifyRequest<{ Params: HookParams }>, reply: FastifyReply) => {
    const { channelId, pathToken } = request.params;
    request.logFields.channel = channelId;
    const channel = ctx.channels.get(channelId);
    if (!channel) throw new ImgateError('IMG_ERR_INBOUND_UNKNOWN_CHANNEL');
    const allowed = allowLists.get(channel.id);
    if (allowed && !allowed(request.ip)) {
      request.logFields.ip = request.ip;
      throw new ImgateError('IMG_ERR_IP_NOT_ALLOWED');
    }
    try {
      const result = await ctx.pipeline.handleCallback(channel, inboundRequestOf(request, pathToken));
      const [first] = result.outcomes;
      if (first) {
        channel.status.lastEventAt = new Date().toISOString();
        Object.assign(request.logFields, {
          eventId: first.eventId,
          dedup: first.status === 'duplicate',
          events: result.outcomes.length,
          sender: result.summary?.sender,
          conversationId: result.summary?.conversationId,
        });
      }
      return sendReply(reply, result.reply);
    } catch (error) {
      recordChannelError(channel.status, error);
      throw error;
    }
  };

  for (const url of ['/hooks/:channelId', '/hooks/:channelId/:pathToken']) {
    // Every method reaches the adapter, which answers 405 for those its platform never uses.
    app.route<{ Params: HookParams }>({ method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'], url, handler: handle });
  }
}
