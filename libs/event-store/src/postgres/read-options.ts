import { InvalidAppendError } from '../errors';

/** Where `readStream` starts and how many rows each round trip fetches. */
export interface ReadStreamOptions {
  /** First stream version to return (default 1). */
  fromVersion?: number;
  /** Rows fetched per round trip (default 500). */
  batchSize?: number;
}

/** Where `readAll` starts and stops and how many rows each round trip fetches. */
export interface ReadAllOptions {
  /** First global position to return (inclusive, default 1). */
  fromPosition?: number;
  /** Rows fetched per round trip (default 1000). */
  batchSize?: number;
  /** Stop after this position (inclusive); default: whatever is committed when the read reaches it. */
  toPosition?: number;
}

/** A batch size as given, or `InvalidAppendError` naming the option when it is not a positive integer. */
export function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new InvalidAppendError(`${name} must be a positive integer`);
  return value;
}
