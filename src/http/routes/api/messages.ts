import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ImgateError } from '../../../core/errors.ts';
import { compatSendSchema, sendInputSchema } from '../../../outbound/send-input.ts';
import type { AppContext } from '../../context.ts';
import { authenticateApiKey } from '../../plugins/auth.ts';
import { validate } from '../../validate.ts';

function idempotencyKey(request: FastifyRequest): string | undefined {
  const header = request.headers['idempotency-key'];
  const value = Array.isArray(header) ? header[0] : header;
  if (value !== undefined && (value.length === 0 || value.length > 200)) {
    throw new ImgateError('IMG_ERR_VALIDATION', { message: 'Idempotency-Key: 1 to 200 characters' });
  }
  return value;
}

/** The send API: `POST /v1/messages` and the OpenClaw-compatible route (docs/channels/wechat-pad.md, "OpenClaw's wechat_abot"). */
export async function messageRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.post('/v1/messages', async (request) => {
    const apiKey = await authenticateApiKey(request, ctx.store);
    const input = validate(sendInputSchema, request.body);
    request.logFields.channel = input.channel;
    const response = await ctx.sendService.send(input, apiKey, idempotencyKey(request));
    request.logFields.messageId = response.messageId;
    return response;
  });

  app.post<{ Params: { channelId: string } }>('/api/channels/:channelId/messages/send', async (request) => {
    const apiKey = await authenticateApiKey(request, ctx.store);
    const body = validate(compatSendSchema, request.body);
    request.logFields.channel = request.params.channelId;
    const response = await ctx.sendService.send(
      {
        channel: request.params.channelId,
        to: body.to,
        text: body.text,
        replyTo: body.replyToMessageId,
        requestId: body.requestId,
      },
      apiKey,
      idempotencyKey(request),
    );
    request.logFields.messageId = response.messageId;
    return { messageId: response.messageId };
  });
}
