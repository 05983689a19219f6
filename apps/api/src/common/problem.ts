/** RFC 9457 problem details body, with this service's stable `code`. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: string;
  /** For validation failures: one entry per failing field. */
  errors?: Array<{ field: string; messages: string[] }>;
  [extension: string]: unknown;
}

/** Base of errors the app raises from the HTTP layer itself (no domain meaning). */
export class RequestError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** A request failed validation; lists each failing field. */
export class RequestValidationError extends RequestError {
  constructor(readonly errors: Array<{ field: string; messages: string[] }>) {
    super('REQUEST.VALIDATION_FAILED', 400, `${errors.length} field(s) failed validation`, { errors });
  }
}
