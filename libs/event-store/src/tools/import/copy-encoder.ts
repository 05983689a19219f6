import { isUtf8 } from 'node:buffer';
import { Transform, TransformCallback } from 'node:stream';
import { ImportLineError } from '../../errors';
import { ExportedEvent, parseExportLine } from '../export-format';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** Starts every binary COPY: the signature, flags 0, no header extension. */
export const COPY_HEADER = Buffer.concat([SIGNATURE, Buffer.alloc(8)]);
/** Ends every binary COPY. */
export const COPY_TRAILER = Buffer.from([0xff, 0xff]);
/** The staging table's columns, in COPY order. */
export const STAGING_COLUMNS = 'line, event_id, stream_id, stream_version, type, schema_version, data, metadata, recorded_at';
const FIELDS = 9;
const NEWLINE = 0x0a;
const JSONB_VERSION = 1;
/** PostgreSQL timestamps count microseconds from 2000-01-01T00:00:00Z. */
const PG_EPOCH_MS = Date.UTC(2000, 0, 1);
/** Field count, then a length per field, plus the fixed-size fields (line, id, versions, time) and the jsonb version bytes. */
const FIXED_BYTES = 2 + FIELDS * 4 + 8 + 16 + 4 + 4 + 8 + 2;
const NULL_TUPLE_BYTES = 2 + 4 + 8 + (FIELDS - 1) * 4;

/** Encoded tuples for the lines up to and including `lastLine`. */
export interface EncodedLines {
  tuples: Buffer;
  lastLine: number;
}

/** A parsed line with its JSON values already serialised (their byte lengths size the buffer). */
interface ParsedLine {
  line: number;
  event?: ExportedEvent;
  data?: string;
  metadata?: string;
}

/**
 * Turns a JSON-lines byte stream into tuples of PostgreSQL's binary COPY
 * format for the import's staging table (the stager adds header and trailer):
 * each line parsed and checked by `parseExportLine` (so an invalid line fails
 * here, named, with the same message the format documents), its fields sent
 * typed, written straight into one buffer per chunk. One tuple per line, a
 * blank line as a tuple of NULLs, so a server error's tuple number gives the
 * line. Binary COPY takes values verbatim: no escaping, and no `\.` end marker
 * a hostile line could forge. `bytesIn` counts the input read.
 */
export class CopyLineEncoder extends Transform {
  bytesIn = 0;
  lines = 0;
  private carry: Buffer | undefined;

  constructor() {
    super({ writableObjectMode: true, readableObjectMode: true });
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, done: TransformCallback): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    this.bytesIn += bytes.length;
    const input = this.carry ? Buffer.concat([this.carry, bytes]) : bytes;
    const end = input.lastIndexOf(NEWLINE) + 1;
    this.carry = end < input.length ? Buffer.from(input.subarray(end)) : undefined;
    try {
      done(null, end ? this.encode(input.subarray(0, end)) : undefined);
    } catch (error) {
      done(error as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      if (this.carry) this.push(this.encode(this.carry));
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  /** Encodes whole lines (the last may lack its newline, at the end of the input). */
  private encode(region: Buffer): EncodedLines {
    const utf8 = isUtf8(region);
    const parsed: ParsedLine[] = [];
    let size = 0;
    for (let start = 0; start < region.length;) {
      const newline = region.indexOf(NEWLINE, start);
      const end = newline === -1 ? region.length : newline;
      const line = this.parse(region.subarray(start, end), utf8);
      size += line.event ? FIXED_BYTES + byteSizes(line) : NULL_TUPLE_BYTES;
      parsed.push(line);
      start = end + 1;
    }
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    for (const line of parsed) at = writeTuple(out, at, line);
    return { tuples: out, lastLine: this.lines };
  }

  private parse(raw: Buffer, utf8: boolean): ParsedLine {
    const line = ++this.lines;
    if (!utf8 && !isUtf8(raw)) throw new ImportLineError(line, 'not valid UTF-8');
    const text = raw.toString('utf8').trim();
    if (!text) return { line };
    const event = parseExportLine(text, line);
    return { line, event, data: JSON.stringify(event.data), metadata: JSON.stringify(event.metadata) };
  }
}

function byteSizes(p: ParsedLine): number {
  const e = p.event as ExportedEvent;
  return (
    Buffer.byteLength(e.streamId) +
    Buffer.byteLength(e.type) +
    Buffer.byteLength(p.data as string) +
    Buffer.byteLength(p.metadata as string)
  );
}

function writeTuple(out: Buffer, at: number, p: ParsedLine): number {
  at = out.writeInt16BE(FIELDS, at);
  at = writeInt8(out, writeLength(out, at, 8), p.line);
  if (!p.event) {
    for (let i = 1; i < FIELDS; i++) at = out.writeInt32BE(-1, at);
    return at;
  }
  const e = p.event;
  at = writeLength(out, at, 16);
  at += out.write(e.eventId.replace(/-/g, ''), at, 'hex');
  at = writeText(out, at, e.streamId);
  at = out.writeInt32BE(e.streamVersion, writeLength(out, at, 4));
  at = writeText(out, at, e.type);
  at = out.writeInt32BE(e.schemaVersion, writeLength(out, at, 4));
  at = writeJsonb(out, at, p.data as string);
  at = writeJsonb(out, at, p.metadata as string);
  return writeInt8(out, writeLength(out, at, 8), (Date.parse(e.recordedAt) - PG_EPOCH_MS) * 1000);
}

function writeLength(out: Buffer, at: number, length: number): number {
  return out.writeInt32BE(length, at);
}

function writeText(out: Buffer, at: number, text: string): number {
  const length = out.write(text, at + 4);
  out.writeInt32BE(length, at);
  return at + 4 + length;
}

function writeJsonb(out: Buffer, at: number, json: string): number {
  const length = out.write(json, at + 5);
  out.writeInt32BE(1 + length, at);
  out[at + 4] = JSONB_VERSION;
  return at + 5 + length;
}

/** A 64-bit integer from a double (exact below 2^53), as two 32-bit halves: no BigInt per value. */
function writeInt8(out: Buffer, at: number, n: number): number {
  const high = Math.floor(n / 4294967296);
  at = out.writeInt32BE(high, at);
  return out.writeUInt32BE(n - high * 4294967296, at);
}
