import { z } from 'zod';
import { configNumber } from '../../core/env-scalars.ts';

/** Config keys of every WeCom channel that receives callbacks (WXBizMsgCrypt). */
export const wecomReceiveFields = {
  token: z.string().min(1).describe('The callback Token set in the WeCom admin console (signs callbacks).'),
  encodingAESKey: z
    .string()
    .regex(/^[A-Za-z0-9+/]{43}$/, '43 characters of base64')
    .describe('The callback EncodingAESKey set in the WeCom admin console (encrypts callbacks).'),
  timestampWindowSeconds: configNumber(z.number().int().min(0))
    .default(300)
    .describe('How far a callback\'s `timestamp` may be from now; 0 turns the check off.'),
};

/** Config keys of a WeCom app credential that gets access tokens. */
export const wecomCredentialFields = {
  corpId: z.string().min(1).describe('The CorpID (企业ID); callbacks encrypted for another corp are refused.'),
  corpSecret: z.string().min(1).describe('The secret that gets access tokens (`gettoken`).'),
  tokenUrl: z
    .url()
    .optional()
    .describe('Take access tokens from this service (answering like `gettoken` to `?corpid=&corpsecret=`) instead of WeCom.'),
};
