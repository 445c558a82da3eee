import { z } from 'zod';

const imageSchema = z
  .object({ url: z.url().optional(), base64: z.base64().optional() })
  .refine((image) => Boolean(image.url) !== Boolean(image.base64), 'give exactly one of url and base64');

/** Link cards (WeCom's `news`): up to 8 articles, as the WeCom robot and app APIs take them. */
const newsSchema = z.object({
  articles: z
    .array(
      z.object({
        title: z.string().min(1).max(128),
        description: z.string().max(512).optional(),
        url: z.url(),
        picurl: z.url().optional(),
      }),
    )
    .min(1)
    .max(8),
});

/** `POST /v1/messages` (README.md, "Routes"; `news` for the platforms that have cards). */
export const sendInputSchema = z
  .object({
    channel: z.string().min(1),
    to: z.string().min(1).describe('A conversation.id of that channel.'),
    text: z.string().min(1).max(20000).optional(),
    markdown: z.string().min(1).max(20000).optional(),
    image: imageSchema.optional(),
    news: newsSchema.optional(),
    replyTo: z.string().min(1).optional().describe("A unified message.id or the platform's message id."),
    mentions: z.array(z.string().min(1)).max(50).optional(),
    requestId: z.string().min(1).max(200).optional(),
  })
  .refine(
    (input) => [input.text, input.markdown, input.image, input.news].filter((part) => part !== undefined).length === 1,
    { message: 'give exactly one of text, markdown, image and news', path: ['text'] },
  );

export type SendInput = z.infer<typeof sendInputSchema>;

/** The OpenClaw-compatible `POST /api/channels/:channelId/messages/send` body (docs/channels/wechat-pad.md, "OpenClaw's wechat_abot"). */
export const compatSendSchema = z.object({
  to: z.string().min(1),
  text: z.string().min(1).max(20000),
  replyToMessageId: z.string().min(1).optional(),
  requestId: z.string().min(1).max(200).optional(),
});
