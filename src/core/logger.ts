import { pino, type Logger } from 'pino';

/**
 * Paths pino blanks in every log line. Secrets never reach a log on purpose; this list is the net
 * under that rule, for headers and config objects that end up in a line by accident.
 */
export const REDACT_PATHS = [
  'secret',
  'secrets',
  'token',
  'key',
  '*.secret',
  '*.secrets',
  '*.token',
  '*.key',
  '*.appSecret',
  '*.corpSecret',
  '*.encodingAESKey',
  '*.encryptKey',
  '*.pathToken',
  '*.webhookKey',
  '*.WebhookUrl',
  '*.sessionWebhook',
  '*.testPrivateKey',
  'access_token',
  '*.access_token',
  'headers.authorization',
  'headers["x-webhook-signature"]',
  'headers["x-wechat-abot-signature"]',
  'headers["x-gewe-token"]',
  'headers["webhook-signature"]',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'imgate' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? process.stdout,
  );
}

export type { Logger };
