/**
 * The one place where stable error codes become HTTP statuses. Domain and
 * library errors know nothing of HTTP; unknown codes fall back to 500.
 */
export const STATUS_BY_CODE: Record<string, number> = {
  'EVENT_STORE.CONCURRENCY_CONFLICT': 409,
  'EVENT_STORE.IDEMPOTENCY_CONFLICT': 409,
  'EVENT_STORE.INVALID_APPEND': 422,
  'EVENT_STORE.BATCH_TOO_LARGE': 413,
  'EVENT_STORE.IMPORT_INVALID': 400,
  'EVENT_STORE.UNKNOWN_EVENT_TYPE': 500,
  'EVENT_STORE.MISSING_UPCASTER': 500,
  'EVENT_STORE.UPCAST_FAILED': 500,
  'EVENT_STORE.VALIDATION_FAILED': 500,
  'EVENT_STORE.TIMEOUT': 503,
  'EVENT_STORE.FOREIGN_TRANSACTION': 500,
  'PROJECTION.NOT_FOUND': 404,
  'PROJECTION.STATE_CONFLICT': 409,
  'RELAY.OFF': 409,
  'CACHE.FACTORY_TIMEOUT': 503,
  'CACHE.FACTORY_FAILED': 500,
  'USERS.NOT_FOUND': 404,
  'USERS.INVALID_POINTS': 400,
  'USERS.EMAIL_TAKEN': 409,
  'AUTH.UNAUTHENTICATED': 401,
  'AUTH.INVALID_TOKEN': 401,
  'AUTH.FORBIDDEN': 403,
  'AUTH.KEYS_UNAVAILABLE': 503,
  'USERS.ERASED': 410,
  'EVENT_STORE.PERSONAL_DATA_ERASED': 410,
  'EVENT_STORE.PERSONAL_DATA_UNREADABLE': 500,
};

/** Short human titles per status, used as the problem `title`. */
export const TITLE_BY_STATUS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};
