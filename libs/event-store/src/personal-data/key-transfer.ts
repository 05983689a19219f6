import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { EventStoreError, ImportLineError } from '../errors';
import type { EventStore } from '../postgres/postgres-event-store';
import type { ImportInput } from '../tools/import/bulk-import';
import type { PersonalData } from './personal-data';

/** What `importPersonalDataKeys` stored. */
export interface PersonalDataKeysReport {
  /** Key lines read (a key the target already has, or whose subject is tombstoned, is not stored). */
  keys: number;
  /** Tombstone lines read; each deletes the subject's key in the target. */
  erasures: number;
}

/** The store's personal data, or a clear error when it has no master key. */
function personalDataOf(store: EventStore): PersonalData {
  if (!store.personalData) throw new PersonalDataDisabledError();
  return store.personalData;
}

/** An operation on personal-data keys ran on a store opened without `personalData`. */
export class PersonalDataDisabledError extends EventStoreError {
  readonly code = 'EVENT_STORE.INVALID_OPTIONS';
  constructor() {
    super('This store was opened without personalData (no master key)');
  }
}

/**
 * The personal-data keys file: one JSON line per data key (`{ subject, wrappedKey }`, still
 * wrapped by the master key: useless without it) and per tombstone (`{ subject, erasedAt }`).
 * Written only on request, apart from the event export, which keeps ciphertext.
 */
export async function* exportPersonalDataKeys(store: EventStore): AsyncGenerator<string> {
  const pd = personalDataOf(store);
  const [keys, erasures] = await store.inTransaction(async (q) => [await pd.keys.allKeys(q), await pd.keys.allErasures(q)] as const);
  for (const k of keys) yield JSON.stringify({ subject: k.subject, wrappedKey: k.wrapped.toString('base64') }) + '\n';
  for (const e of erasures) yield JSON.stringify({ subject: e.subject, erasedAt: e.erasedAt }) + '\n';
}

/**
 * Loads a keys file in one transaction: tombstones first (each deletes the subject's key),
 * then keys, never for a subject tombstoned in the target or in the file, never over a key
 * the target holds. Every key must unwrap with this store's master key, else nothing is
 * stored (`ImportLineError` names the line).
 */
export async function importPersonalDataKeys(store: EventStore, input: ImportInput): Promise<PersonalDataKeysReport> {
  const pd = personalDataOf(store);
  const keys: Array<{ subject: string; wrapped: Buffer }> = [];
  const erasures: Array<{ subject: string; erasedAt: string }> = [];
  let line = 0;
  for await (const text of lines(input)) {
    line++;
    if (!text.trim()) continue;
    const entry = parseKeyLine(text, line);
    if ('erasedAt' in entry) erasures.push(entry);
    else if (!pd.unwraps(entry.subject, entry.wrapped)) throw new ImportLineError(line, 'the key does not unwrap with this master key');
    else keys.push(entry);
  }
  const erased = new Set(erasures.map((e) => e.subject));
  const kept = keys.filter((k) => !erased.has(k.subject));
  await store.inTransaction((q) => pd.keys.importAll(q, kept, erasures));
  return { keys: keys.length, erasures: erasures.length };
}

function parseKeyLine(text: string, line: number): { subject: string; wrapped: Buffer } | { subject: string; erasedAt: string } {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ImportLineError(line, 'not valid JSON');
  }
  if (!value || typeof value.subject !== 'string' || !value.subject) throw new ImportLineError(line, 'subject must be a non-empty string');
  if (typeof value.erasedAt === 'string' && !Number.isNaN(Date.parse(value.erasedAt))) {
    return { subject: value.subject, erasedAt: value.erasedAt };
  }
  if (typeof value.wrappedKey !== 'string') throw new ImportLineError(line, 'a line holds wrappedKey or erasedAt');
  return { subject: value.subject, wrapped: Buffer.from(value.wrappedKey, 'base64') };
}

/** Export lines sealed per group: this many lines share one key lookup. */
const SEAL_GROUP = 1000;

/**
 * The transform of the re-encryption path (export -> transform -> import): export lines
 * with their plaintext personal fields sealed with the target store's keys (made as
 * needed; a tombstoned subject's fields are sealed with a throwaway key, so they read as
 * erased). Lines that are not valid events pass unchanged: the import reports them.
 */
export async function* sealPlaintextLines(store: EventStore, input: ImportInput): AsyncGenerator<string> {
  const pd = personalDataOf(store);
  let group: string[] = [];
  for await (const text of lines(input)) {
    group.push(text);
    if (group.length >= SEAL_GROUP) {
      yield* await sealGroup(pd, group);
      group = [];
    }
  }
  if (group.length) yield* await sealGroup(pd, group);
}

async function sealGroup(pd: PersonalData, group: string[]): Promise<string[]> {
  const parsed = group.map((text) => {
    try {
      const e = JSON.parse(text) as { streamId?: unknown; type?: unknown; data?: unknown };
      return e && typeof e.streamId === 'string' && e.data && typeof e.data === 'object' ? (e as ExportedLike) : undefined;
    } catch {
      return undefined;
    }
  });
  const events = parsed.filter((e): e is ExportedLike => e !== undefined);
  const sealed = await pd.sealEvents(
    events.map((e) => ({ streamId: e.streamId, events: [e] })),
    'shred',
  );
  const byEvent = new Map(events.map((e, i) => [e, sealed[i][0]]));
  return group.map((text, i) => {
    const e = parsed[i];
    const out = e && byEvent.get(e);
    return out && out !== e ? JSON.stringify(out) + '\n' : text.endsWith('\n') ? text : text + '\n';
  });
}

type ExportedLike = { streamId: string; type: string; schemaVersion: number; eventId?: string; data: Record<string, unknown> };

/** The input's lines, without their newline. */
async function* lines(input: ImportInput): AsyncGenerator<string> {
  const source = input instanceof Readable ? input : Readable.from(input as Iterable<string | Buffer>);
  const decoder = new StringDecoder('utf8'); // a character split across two chunks stays whole
  let rest = '';
  for await (const chunk of source as AsyncIterable<string | Buffer>) {
    rest += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    const parts = rest.split('\n');
    rest = parts.pop()!;
    yield* parts;
  }
  rest += decoder.end();
  if (rest) yield rest;
}
