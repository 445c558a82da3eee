/**
 * The one error catalogue. Every error imgate answers with has a code here, its HTTP status and its
 * message. `docs/errors.md` lists the same codes; `test/core/errors.test.ts` keeps the two in step.
 * Retired codes are never reused.
 */

export const ERRORS = {
  // Inbound callbacks
  IMG_ERR_INBOUND_UNKNOWN_CHANNEL: { status: 404, message: 'no enabled channel with this id' },
  IMG_ERR_INBOUND_BAD_SIGNATURE: { status: 401, message: 'the request signature is missing or wrong' },
  IMG_ERR_INBOUND_STALE_TIMESTAMP: { status: 401, message: 'the request timestamp is outside the allowed window' },
  IMG_ERR_INBOUND_BAD_TOKEN: { status: 401, message: 'the path token or verification token is missing or wrong' },
  IMG_ERR_INBOUND_MALFORMED: { status: 400, message: 'the request body could not be parsed' },
  IMG_ERR_INBOUND_UNSUPPORTED: { status: 400, message: 'the request is not a callback this channel understands' },
  IMG_ERR_INBOUND_METHOD: { status: 405, message: 'this channel does not accept this method' },
  IMG_ERR_IP_NOT_ALLOWED: { status: 403, message: 'requests from this address are not allowed for this channel' },
  IMG_ERR_BODY_TOO_LARGE: { status: 413, message: 'the request body is larger than the configured limit' },

  // API authentication and input
  IMG_ERR_AUTH_MISSING: { status: 401, message: 'an Authorization: Bearer token is required' },
  IMG_ERR_AUTH_INVALID: { status: 401, message: 'the bearer token is not valid' },
  IMG_ERR_AUTH_SCOPE: { status: 403, message: 'this API key is not allowed to use this channel' },
  IMG_ERR_AUTH_ADMIN_ONLY: { status: 403, message: 'this route takes the admin token, not an API key' },
  IMG_ERR_VALIDATION: { status: 400, message: 'the request is not valid' },
  IMG_ERR_NOT_FOUND: { status: 404, message: 'no such resource' },
  IMG_ERR_ROUTE_NOT_FOUND: { status: 404, message: 'no such route' },
  IMG_ERR_DELIVERY_IN_FLIGHT: { status: 409, message: 'this delivery is being attempted right now' },
  IMG_ERR_ALREADY_EXISTS: { status: 409, message: 'a resource with this id exists' },
  IMG_ERR_PRECONDITION_FAILED: { status: 412, message: 'the resource changed since the version named in If-Match' },

  // Send
  IMG_ERR_SEND_UNKNOWN_CHANNEL: { status: 404, message: 'no enabled channel with this id' },
  IMG_ERR_SEND_UNKNOWN_MESSAGE: { status: 404, message: 'replyTo names no message known on this channel' },
  IMG_ERR_SEND_UNSUPPORTED: { status: 400, message: 'this channel cannot send this kind of message' },
  IMG_ERR_IDEMPOTENCY_CONFLICT: { status: 409, message: 'this idempotency key was used with a different request' },
  IMG_ERR_IDEMPOTENCY_IN_PROGRESS: { status: 409, message: 'a request with this idempotency key is still in progress' },
  IMG_ERR_PLATFORM_REJECTED: { status: 422, message: 'the platform rejected the request' },
  IMG_ERR_REPLY_WINDOW_CLOSED: { status: 422, message: 'the platform takes no more replies to this message' },
  IMG_ERR_PLATFORM_RATE_LIMITED: { status: 429, message: 'the platform asks to slow down' },
  IMG_ERR_PLATFORM_UNREACHABLE: { status: 502, message: 'the platform could not be reached' },
  IMG_ERR_SEND_RATE_LIMITED: { status: 429, message: "this channel's send rate limit is reached; retry after retry_after seconds" },
  IMG_ERR_SEND_NO_CONTEXT: { status: 409, message: 'the platform lets the bot write only to a user who has written to it' },
  IMG_ERR_LOGIN_NEEDED: { status: 409, message: 'the channel must be logged in (again) with imgate login' },

  // Operations
  IMG_ERR_OVERLOADED: { status: 503, message: 'the store cannot keep up; retry shortly' },
  IMG_ERR_STORE_FULL: { status: 503, message: "the store's disk is full; retry later" },
  IMG_ERR_SHUTTING_DOWN: { status: 503, message: 'the gateway is shutting down' },
  IMG_ERR_SECRET_KEY_MISSING: { status: 503, message: 'the gateway has no usable IMGATE_SECRET_KEY for the secrets it keeps in its store' },
  IMG_ERR_INTERNAL: { status: 500, message: 'internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

export class ImgateError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  /** Seconds, for 429 answers: sent as `retry_after` and as a `Retry-After` header. */
  readonly retryAfter: number | undefined;

  constructor(
    code: ErrorCode,
    options: { message?: string; details?: Record<string, unknown>; retryAfter?: number; cause?: unknown } = {},
  ) {
    super(options.message ?? ERRORS[code].message, { cause: options.cause });
    this.name = 'ImgateError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.details = options.details;
    this.retryAfter = options.retryAfter;
  }

  toBody(): ErrorBody & { retry_after?: number } {
    const body: ErrorBody & { retry_after?: number } = { error: { code: this.code, message: this.message } };
    if (this.details) body.error.details = this.details;
    if (this.retryAfter !== undefined) body.retry_after = this.retryAfter;
    return body;
  }
}
