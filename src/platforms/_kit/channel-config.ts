import { z } from 'zod';

/** Keys every channel has, whatever its platform (PRODUCT.md, "Channel keys"). */
export const channelBaseSchema = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" and "-", at most 64, starting with a letter or digit')
    .describe('The channel id: it names the channel in routes (`/hooks/<id>`), events and sends.'),
  enabled: z.boolean().default(true).describe('A disabled channel answers 404 and sends nothing.'),
  apiBase: z.url().optional().describe("The platform API's base URL; point it at a fake server in tests."),
  allowIps: z
    .array(z.string())
    .optional()
    .describe('Addresses or CIDRs allowed to call this channel\'s callback; others get 403. Unset: any.'),
  tokenUrl: z.url().optional().describe('Take access tokens from this existing token service instead of the platform.'),
});
