/**
 * The one error type of the API. Domain code throws an `ApiError` with a stable `code`; the app's
 * single `onError` renders it as RFC 9457 problem details. Anything else that is thrown is a server
 * fault and is answered `500 INTERNAL` (see `src/app.ts`).
 */

/** Every error code of the public contract (docs/api.md), with its HTTP status. */
export const ERROR_STATUS = {
  INVALID_INPUT: 400,
  INVALID_JSON: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  ADMISSION_REQUIRED: 403,
  ADMISSION_INVALID: 403,
  BOT_CHECK_FAILED: 403,
  TOO_MANY_TICKETS: 400,
  SOLD_OUT: 409,
  SEAT_UNAVAILABLE: 409,
  DUPLICATE_RESERVATION: 409,
  SALES_CLOSED: 409,
  RESERVATION_EXPIRED: 410,
  RESERVATION_NOT_ACTIVE: 409,
  EXTENSION_LIMIT: 409,
  CAPACITY_BELOW_COMMITTED: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  IDEMPOTENCY_KEY_IN_USE: 409,
  WEBHOOK_SIGNATURE_INVALID: 400,
  INVALID_TICKET_CODE: 400,
  TICKET_NOT_FOUND: 404,
  WRONG_EVENT: 403,
  TICKET_VOID: 410,
  ALREADY_CHECKED_IN: 409,
  /** Ours (docs/api.md is silent): an exit scan for a ticket that is not inside. */
  NOT_CHECKED_IN: 409,
  REFUND_FAILED: 502,
  /** Ours (docs/api.md is silent): a refund of an order that was never paid. */
  ORDER_NOT_PAID: 409,
  /** Ours (docs/api.md is silent): a retry asked of a webhook delivery that was delivered. */
  ALREADY_DELIVERED: 409,
  /** Ours (docs/api.md is silent): a retry asked of a delivery whose endpoint is disabled. */
  ENDPOINT_DISABLED: 409,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export type ErrorStatus = (typeof ERROR_STATUS)[ErrorCode];

/** One problem found by validation: where (a dotted path; empty for the whole body) and what. */
export interface FieldError {
  path: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: ErrorStatus;

  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    /** Extra members of the problem document (`tierId`, `available`, `errors`, …). */
    readonly extra: Record<string, unknown> = {},
    /** Headers the answer carries (`Retry-After`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(`${code}: ${detail}`);
    this.name = "ApiError";
    this.status = ERROR_STATUS[code];
  }
}

export const invalidInput = (errors: FieldError[], detail = "The request is not valid") =>
  new ApiError("INVALID_INPUT", detail, { errors });

export const notFound = (what: string, id: string) => new ApiError("NOT_FOUND", `No ${what} '${id}'`);
