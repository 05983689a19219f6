import { isUtf8 } from 'node:buffer';
import { Transform, TransformCallback } from 'node:stream';
import { ImportLineError } from '../../errors';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const HEADER = Buffer.concat([SIGNATURE, Buffer.alloc(8)]); // flags 0, no header extension
const TRAILER = Buffer.from([0xff, 0xff]);
const TUPLE_OVERHEAD = 2 + 4 + 8 + 4; // field count, length + int8 line number, field length
const JSONB_VERSION = 1; // binary jsonb input: a version byte, then the JSON text
const NEWLINE = 0x0a;

/**
 * Turns a JSON-lines byte stream into PostgreSQL's binary COPY format for a
 * `(line bigint, j jsonb)` staging table: one tuple per line, numbered as an
 * editor would (1-based), a blank line as NULL, so tuple N is line N and a
 * COPY error's line number is the file's. The server parses each line as
 * JSON while it loads. Binary COPY takes each line's bytes verbatim: no
 * escaping, and no `\.` end marker that a hostile line could forge. Lines are
 * checked to be UTF-8 without NUL here, where the line is known.
 * `bytesIn` counts the input consumed (for progress).
 */
export class CopyLineEncoder extends Transform {
  bytesIn = 0;
  /** Lines read so far (the last line number). */
  lines = 0;
  private carry: Buffer | undefined;

  constructor() {
    super({ writableObjectMode: true });
    this.push(HEADER);
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, done: TransformCallback): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    this.bytesIn += bytes.length;
    const input = this.carry ? Buffer.concat([this.carry, bytes]) : bytes;
    const lines: Array<[number, Buffer | null]> = [];
    let start = 0;
    try {
      for (let end = input.indexOf(NEWLINE); end !== -1; end = input.indexOf(NEWLINE, start)) {
        this.takeLine(input.subarray(start, end), lines);
        start = end + 1;
      }
    } catch (error) {
      return done(error as Error);
    }
    this.carry = start < input.length ? Buffer.from(input.subarray(start)) : undefined;
    done(null, lines.length ? encode(lines) : undefined);
  }

  override _flush(done: TransformCallback): void {
    const lines: Array<[number, Buffer | null]> = [];
    try {
      if (this.carry) this.takeLine(this.carry, lines);
    } catch (error) {
      return done(error as Error);
    }
    done(null, Buffer.concat([encode(lines), TRAILER]));
  }

  /** Numbers the line (a blank one becomes NULL); refuses bytes that are not UTF-8 text. */
  private takeLine(raw: Buffer, into: Array<[number, Buffer | null]>): void {
    this.lines++;
    const text = raw.length && raw[raw.length - 1] === 0x0d ? raw.subarray(0, raw.length - 1) : raw;
    if (isBlank(text)) return void into.push([this.lines, null]);
    if (!isUtf8(text)) throw new ImportLineError(this.lines, 'not valid UTF-8');
    if (text.includes(0)) throw new ImportLineError(this.lines, 'not valid JSON');
    into.push([this.lines, text]);
  }
}

/** One buffer with a COPY tuple per line. */
function encode(lines: Array<[number, Buffer | null]>): Buffer {
  let size = 0;
  for (const [, text] of lines) size += TUPLE_OVERHEAD + (text ? 1 + text.length : 0);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const [line, text] of lines) {
    at = out.writeInt16BE(2, at);
    at = out.writeInt32BE(8, at);
    at = out.writeBigInt64BE(BigInt(line), at);
    if (!text) {
      at = out.writeInt32BE(-1, at);
      continue;
    }
    at = out.writeInt32BE(1 + text.length, at);
    at = out.writeUInt8(JSONB_VERSION, at);
    at += text.copy(out, at);
  }
  return out;
}

function isBlank(text: Buffer): boolean {
  for (const byte of text) if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) return false;
  return true;
}
