import { ImgateError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';

/** Network failures of a platform that is down or out of reach for a while (Node's and undici's codes). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * The platform is away for a while, as every reconnect loop must expect: no connection, a timeout,
 * a 5xx, a gateway that closed or stopped answering (IMG_ERR_PLATFORM_UNREACHABLE); also such an
 * error thrown by a client library unwrapped. A refusal (401, a fatal close code) or a bug is not.
 */
export function isPlatformOutage(error: unknown): boolean {
  if (error instanceof ImgateError) {
    if (error.code === 'IMG_ERR_PLATFORM_UNREACHABLE') return true;
    const status = error.details?.httpStatus;
    return error.code === 'IMG_ERR_PLATFORM_REJECTED' && typeof status === 'number' && status >= 500;
  }
  for (let cause: unknown = error, depth = 0; cause instanceof Error && depth < 3; cause = cause.cause, depth += 1) {
    const code = (cause as { code?: unknown }).code;
    if ((typeof code === 'string' && NETWORK_CODES.has(code)) || cause.message === 'socket hang up') return true;
  }
  return false;
}

/**
 * Logs the failures of one retried connection or poll by state rather than by attempt: the first
 * outage (see isPlatformOutage) at warn, in one line without a stack, each repeat at debug while it
 * lasts, and its end at info. Anything else is logged at warn with its stack, every time.
 */
export class OutageLog {
  /** Failed attempts in the outage under way; 0 while the platform answers. */
  private failures = 0;
  private since = 0;

  /** `subject` names what is retried in each line ("long connection", "wecom-kf pull"); `bindings` go in every line. */
  constructor(
    private readonly logger: Logger,
    private readonly subject: string,
    private readonly bindings: Record<string, unknown> = {},
  ) {}

  /** One failed attempt; `fields` (the pause before the next) go in its line. */
  failed(error: unknown, fields: Record<string, unknown> = {}): void {
    if (!isPlatformOutage(error)) {
      this.logger.warn({ ...this.bindings, ...fields, err: error }, `${this.subject} failed`);
      return;
    }
    const reason = error instanceof Error ? error.message : String(error);
    const line = { ...this.bindings, ...fields, reason };
    if (this.failures === 0) {
      this.since = Date.now();
      this.logger.warn(line, `${this.subject} unreachable: ${reason}; retrying`);
    } else {
      this.logger.debug({ ...line, failures: this.failures + 1 }, `${this.subject} still unreachable: ${reason}`);
    }
    this.failures += 1;
  }

  /** An attempt that succeeded: ends the outage, if there was one. */
  recovered(): void {
    if (this.failures === 0) return;
    this.logger.info(
      { ...this.bindings, failures: this.failures, downMs: Date.now() - this.since },
      `${this.subject} reachable again after ${this.failures} failed attempt${this.failures === 1 ? '' : 's'}`,
    );
    this.failures = 0;
  }
}
