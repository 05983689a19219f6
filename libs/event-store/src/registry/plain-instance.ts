import type { ClassOf } from './event-definition';

/** Returned when a value is not plain JSON-like data; the caller then uses class-transformer itself. */
export const NOT_PLAIN = Symbol('not plain data');

/** Builds an instance of a class from plain data, or answers {@link NOT_PLAIN}. */
export type Instantiate<T> = (data: unknown) => T | typeof NOT_PLAIN;

const OBJECT_KEYS = new Set(Object.getOwnPropertyNames(Object.prototype));
const SKIPPED_KEYS = new Set(['__proto__', 'constructor']);

/**
 * What `plainToInstance(cls, data)` (no options) builds, for classes without class-transformer
 * decorators and data made of plain objects, arrays and primitives: `new cls()`, then every own
 * key copied deeply, skipping `__proto__`, `constructor`, undefined values and keys that name a
 * prototype member or a function, exactly as class-transformer does. Anything else (Dates,
 * Maps, class instances, thenables) answers NOT_PLAIN so the caller falls back to class-transformer.
 * Returns undefined when the class itself needs class-transformer (see {@link hasTransformerMetadata}).
 */
export function compileInstantiate<T extends object>(cls: ClassOf<T>): Instantiate<T> | undefined {
  if (hasTransformerMetadata(cls) || hasAccessors(cls)) return undefined;
  const prototypeKeys = new Set(Object.getOwnPropertyNames(cls.prototype));
  return (data) => {
    if (!isPlainObject(data)) return NOT_PLAIN;
    const instance = new cls() as Record<string, unknown>;
    for (const key of Object.keys(data)) {
      if (SKIPPED_KEYS.has(key) || prototypeKeys.has(key) || instance[key] instanceof Function) continue;
      const value = copyPlain(data[key], 0);
      if (value === NOT_PLAIN) return NOT_PLAIN;
      if (value !== undefined) instance[key] = value;
    }
    return instance as T;
  };
}

/**
 * For a class whose constructor sets no fields: answers, without allocating, whether the function
 * of {@link compileInstantiate} would build an instance from `data` (rather than NOT_PLAIN).
 */
export function compileIsInstantiable(cls: ClassOf<object>): (data: unknown) => boolean {
  const prototypeKeys = new Set(Object.getOwnPropertyNames(cls.prototype));
  const proto = cls.prototype as Record<string, unknown>;
  return (data) => {
    if (!isPlainObject(data)) return false;
    for (const key of Object.keys(data)) {
      if (SKIPPED_KEYS.has(key) || prototypeKeys.has(key) || proto[key] instanceof Function) continue;
      if (!isPlainTree(data[key], 0)) return false;
    }
    return true;
  };
}

/** True when {@link copyPlain} would copy `value` (not answer NOT_PLAIN). */
function isPlainTree(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (depth > 1000) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (i in value && !isPlainTree(value[i], depth + 1)) return false;
    return true;
  }
  if (!isPlainObject(value) || Object.hasOwn(value, 'constructor')) return false;
  for (const key of Object.keys(value)) if (!OBJECT_KEYS.has(key) && !isPlainTree(value[key], depth + 1)) return false;
  return true;
}

/** Deep copy of JSON-like data with class-transformer's rules for nested values; NOT_PLAIN for anything else. */
export function copyPlain(value: unknown, depth = 0): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth > 1000) return NOT_PLAIN; // let class-transformer (and its stack) deal with absurd nesting
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) continue; // class-transformer iterates with forEach, which skips holes
      const item = copyPlain(value[i], depth + 1);
      if (item === NOT_PLAIN) return NOT_PLAIN;
      copy.push(item);
    }
    return copy;
  }
  // A nested own `constructor` key makes class-transformer use it as the type to construct.
  if (!isPlainObject(value) || Object.hasOwn(value, 'constructor')) return NOT_PLAIN;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (OBJECT_KEYS.has(key)) continue; // class-transformer skips keys that name an Object.prototype member
    const item = copyPlain(value[key], depth + 1);
    if (item === NOT_PLAIN) return NOT_PLAIN;
    if (item !== undefined) copy[key] = item;
  }
  return copy;
}

/**
 * Same result as `structuredClone(data)`, faster for what the database returns (plain objects,
 * arrays, strings, numbers, booleans, null); anything else goes through structuredClone.
 */
export function copyStoredData<T>(data: T): T {
  const copy = cloneJson(data, 0);
  return copy === NOT_PLAIN ? structuredClone(data) : (copy as T);
}

function cloneJson(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return typeof value === 'function' || typeof value === 'symbol' ? NOT_PLAIN : value;
  if (depth > 1000) return NOT_PLAIN;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return NOT_PLAIN;
    const copy = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) return NOT_PLAIN; // holes: structuredClone keeps them
      const item = cloneJson(value[i], depth + 1);
      if (item === NOT_PLAIN) return NOT_PLAIN;
      copy[i] = item;
    }
    return copy;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return NOT_PLAIN;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = cloneJson((value as Record<string, unknown>)[key], depth + 1);
    if (item === NOT_PLAIN) return NOT_PLAIN;
    // An own "__proto__" key (JSON.parse makes one) must stay a key, not become the prototype.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: item, writable: true, enumerable: true, configurable: true });
    else copy[key] = item;
  }
  return copy;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.getPrototypeOf(value) === Object.prototype &&
    typeof (value as { then?: unknown }).then !== 'function' // class-transformer passes thenables through uncopied
  );
}

/** Getters/setters anywhere on the prototype chain change what an assignment does: leave those classes to class-transformer. */
function hasAccessors(cls: ClassOf<object>): boolean {
  for (let proto: unknown = cls.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, key)!;
      if (descriptor.get || descriptor.set) return true;
    }
  }
  return false;
}

interface TransformerStorage {
  _typeMetadatas: Map<unknown, unknown>;
  _transformMetadatas: Map<unknown, unknown>;
  _exposeMetadatas: Map<unknown, unknown>;
  _excludeMetadatas: Map<unknown, unknown>;
}

/**
 * True when class-transformer holds @Type/@Transform/@Expose/@Exclude metadata for the class or an
 * ancestor (then its output can differ from a plain copy), or when its storage cannot be inspected.
 */
export function hasTransformerMetadata(cls: ClassOf<object>): boolean {
  let storage: TransformerStorage | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- an internal path that may move: if it is gone, plain copies are off
    storage = (require('class-transformer/cjs/storage') as { defaultMetadataStorage?: TransformerStorage }).defaultMetadataStorage;
  } catch {
    return true;
  }
  const maps = [storage?._typeMetadatas, storage?._transformMetadatas, storage?._exposeMetadatas, storage?._excludeMetadatas];
  if (!maps.every((m) => m instanceof Map)) return true;
  for (let c: unknown = cls; typeof c === 'function' && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
    if (maps.some((m) => m.has(c))) return true;
  }
  return false;
}
