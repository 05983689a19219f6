import { Readable } from 'node:stream';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { ImportLineError } from '../../errors';
import { pgFields } from '../../postgres/pg-errors';
import { COPY_HEADER, COPY_TRAILER, CopyLineEncoder, EncodedLines } from './copy-encoder';
import { COPY_STAGING } from './import-sql';

/** Bytes of encoded lines per staging COPY. */
const STAGE_BYTES = 1024 * 1024;

/**
 * Reads the input into the staging table. Lines are encoded as they arrive
 * but sent in COPY statements of a few MB, each started only once its data
 * is at hand: a COPY is a transaction that holds back every global reader
 * (ADR 0002) while it runs, so it must never wait on a slow client.
 */
export async function stageLines(client: PoolClient, input: Readable, encoder: CopyLineEncoder): Promise<void> {
  let pending: Buffer[] = [];
  let size = 0;
  let firstLine = 1;
  // One COPY in flight while the next batch is encoded: the client parses as the server loads.
  let inFlight: Promise<void> = Promise.resolve();
  const flush = async (lastLine: number) => {
    if (!pending.length) return;
    const data = Buffer.concat([COPY_HEADER, ...pending, COPY_TRAILER]);
    const from = firstLine;
    pending = [];
    size = 0;
    firstLine = lastLine + 1;
    await inFlight;
    inFlight = copy(client, data, from);
    inFlight.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  };
  try {
    for await (const chunk of input.pipe(encoder) as AsyncIterable<EncodedLines>) {
      pending.push(chunk.tuples);
      size += chunk.tuples.length;
      if (size >= STAGE_BYTES) await flush(chunk.lastLine);
    }
    await flush(encoder.lines);
  } finally {
    await inFlight;
  }
}

/** One COPY of ready data; a value the server refuses (a \u0000 in a string, say) is reported by its line. */
async function copy(client: PoolClient, data: Buffer, firstLine: number): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      const stream = client.query(copyFrom(COPY_STAGING));
      stream.on('finish', resolve).on('error', reject);
      stream.end(data);
    });
  } catch (error) {
    const { code, message } = pgFields(error);
    const tuple = /COPY es_import_events, line (\d+)/.exec((error as { where?: string }).where ?? '');
    if (!tuple || !/^22/.test(code ?? '')) throw error;
    throw new ImportLineError(firstLine + Number(tuple[1]) - 1, `not valid JSON (${message})`);
  }
}
