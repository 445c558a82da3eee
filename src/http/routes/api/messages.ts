import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ImgateError, type ErrorCode } from '../../../core/errors.ts';
import { compatSendSchema, sendInputSchema } from '../../../outbound/send-input.ts';
import type { AppContext } from '../../context.ts';
import type { ApiKeyRecord } from '../../../store/store.ts';
import { API_KEY } from '../../openapi/document.ts';
import { BODY_ERRORS, errorResponses, noQuery } from '../../openapi/responses.ts';
import { authenticateApiKey } from '../../plugins/auth.ts';

function idempotencyKey(request: FastifyRequest): string | undefined {
  const header = request.headers['idempotency-key'];
  const value = Array.isArray(header) ? header[0] : header;
  if (value !== undefined && (value.length === 0 || value.length > 200)) {
    throw new ImgateError('IMG_ERR_VALIDATION', { message: 'Idempotency-Key: 1 to 200 characters' });
  }
  return value;
}

/** What a send can answer besides a 200 (docs/errors.md). */
const SEND_ERRORS: ErrorCode[] = [
  ...BODY_ERRORS,
  'IMG_ERR_AUTH_MISSING',
  'IMG_ERR_AUTH_INVALID',
  'IMG_ERR_AUTH_SCOPE',
  'IMG_ERR_SEND_UNKNOWN_CHANNEL',
  'IMG_ERR_SEND_UNKNOWN_MESSAGE',
  'IMG_ERR_SEND_UNSUPPORTED',
  'IMG_ERR_IDEMPOTENCY_CONFLICT',
  'IMG_ERR_IDEMPOTENCY_IN_PROGRESS',
  'IMG_ERR_PLATFORM_REJECTED',
  'IMG_ERR_REPLY_WINDOW_CLOSED',
  'IMG_ERR_PLATFORM_RATE_LIMITED',
  'IMG_ERR_SEND_RATE_LIMITED',
  'IMG_ERR_PLATFORM_UNREACHABLE',
];

// Loose: fastify hands the handler what the schema let through, and the other headers are needed.
// The key's length is checked in idempotencyKey(), whose message names the header as sent.
const idempotencyHeader = z.looseObject({
  'idempotency-key': z.string().optional().describe('1 to 200 characters: the same key with the same body sends once and answers the same.'),
});

const sentSchema = z.object({
  messageId: z.string().describe('The unified message id.'),
  platformMessageId: z.string().nullable(),
  channel: z.string(),
  to: z.string(),
});

/** The send API: `POST /v1/messages` and the OpenClaw-compatible route (docs/channels/wechat-pad.md, "OpenClaw's wechat_abot"). */
export async function messageRoutes(scope: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  // The key is checked before the body is validated: without one, nobody learns what a send takes.
  const apiKeys = new WeakMap<FastifyRequest, ApiKeyRecord>();
  app.addHook('preValidation', async (request) => {
    apiKeys.set(request, await authenticateApiKey(request, ctx.store));
  });
  const apiKeyOf = (request: FastifyRequest) => apiKeys.get(request) as ApiKeyRecord;

  const sendSchema = {
    security: API_KEY,
    tags: ['send'],
    summary: 'Send a message on a channel',
    headers: idempotencyHeader,
    querystring: noQuery,
    body: sendInputSchema,
    response: { 200: sentSchema, ...errorResponses(...SEND_ERRORS) },
  };
  app.post('/v1/messages', { schema: sendSchema }, async (request) => {
    const apiKey = apiKeyOf(request);
    const input = request.body;
    request.logFields.channel = input.channel;
    const response = await ctx.sendService.send(input, apiKey, idempotencyKey(request));
    request.logFields.messageId = response.messageId;
    return response;
  });

  const compatSchema = {
    security: API_KEY,
    tags: ['send'],
    summary: "Send text, OpenClaw's wechat_abot way",
    headers: idempotencyHeader,
    params: z.object({ channelId: z.string() }),
    body: compatSendSchema,
    response: { 200: sentSchema.pick({ messageId: true }), ...errorResponses(...SEND_ERRORS) },
  };
  app.post('/api/channels/:channelId/messages/send', { schema: compatSchema }, async (request) => {
    const apiKey = apiKeyOf(request);
    const body = request.body;
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
