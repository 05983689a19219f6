import { RequestError } from './problem';

/** `3`, `"3"` or `W/"3"`: a stream version, at most 9 digits. */
const VERSION = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/;

/** Parses `If-Match` into a stream version; absent -> undefined, anything else is a 400 rather than being ignored. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const match = VERSION.exec(header);
  if (!match) throw new RequestError('REQUEST.INVALID_IF_MATCH', 400, 'If-Match must be a stream version, e.g. "3"');
  return Number(match[1]);
}

/** The version `If-Match` names, or the raw header when it names none: `3`, `"3"` and `W/"3"` are one precondition. */
export function ifMatchToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  return VERSION.exec(header)?.[1] ?? header;
}
