import { z } from 'zod';

const imageSchema = z
  .object({ url: z.url().optional(), base64: z.base64().optional() })
  .refine((image) => Boolean(image.url) !== Boolean(image.base64), 'give exactly one of url and base64');

/** `POST /v1/messages` (PRODUCT.md, "Unified send"). */
export const sendInputSchema = z
  .object({
    channel: z.string().min(1),
    to: z.string().min(1).describe('A conversation.id of that channel.'),
    text: z.string().min(1).max(20000).optional(),
    markdown: z.string().min(1).max(20000).optional(),
    image: imageSchema.optional(),
    replyTo: z.string().min(1).optional().describe("A unified message.id or the platform's message id."),
    mentions: z.array(z.string().min(1)).max(50).optional(),
    requestId: z.string().min(1).max(200).optional(),
  })
  .refine(
    (input) => [input.text, input.markdown, input.image].filter((part) => part !== undefined).length === 1,
    { message: 'give exactly one of text, markdown and image', path: ['text'] },
  );

export type SendInput = z.infer<typeof sendInputSchema>;

/** The OpenClaw-compatible `POST /api/channels/:channelId/messages/send` body (seed 000). */
export const compatSendSchema = z.object({
  to: z.string().min(1),
  text: z.string().min(1).max(20000),
  replyToMessageId: z.string().min(1).optional(),
  requestId: z.string().min(1).max(200).optional(),
});
