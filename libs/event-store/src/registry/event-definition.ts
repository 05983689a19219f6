import type { ClassConstructor } from 'class-transformer';
import type { PersonalDataDeclaration } from '../personal-data/personal-fields';
import type { EventMetadata } from '../types';

/**
 * A class constructor (as class-transformer takes it); the latest event class and historic
 * shapes are classes decorated with class-validator.
 */
export type ClassOf<T> = ClassConstructor<T>;

/** Read-only facts an upcaster may use besides the data (e.g. `metadata.occurredAt`). Upcasters stay pure. */
export interface UpcastContext {
  readonly streamId: string;
  readonly metadata: Readonly<EventMetadata>;
  readonly recordedAt: string;
}

/**
 * A pure function from the data of schema version N to the data of version N+1. The `any`
 * defaults let a version chain (`HistoricVersion.upcast`) hold an `Upcaster<V1, V2>` of any shape.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- an upcaster of any shape fits a chain entry (see above)
export type Upcaster<From = any, To = any> = (data: From, context: UpcastContext) => To;

/** One historic (non-latest) schema version of an event type. */
export interface HistoricVersion {
  /** The schema version this entry describes (1-based). */
  version: number;
  /** Optional class-validator shape of that version; when given, stored data is checked before upcasting. */
  shape?: ClassOf<object>;
  /** Turns this version's data into the data of `version + 1`. */
  upcast: Upcaster;
  /** Which of this version's properties are personal data (see `EventDefinition.personalData`). */
  personalData?: PersonalDataDeclaration;
}

/**
 * Declares an event type: its stored name, its current schema version and
 * class, and every historic version with the upcaster to the next one.
 */
export interface EventDefinition<E extends object = object> {
  /** Stable stored name (never derived from the JavaScript class name). */
  type: string;
  /** Current schema version; new events are written with it. */
  version: number;
  /** Class of the latest shape, decorated with class-validator; instances are what code above the store sees. */
  eventClass: ClassOf<E>;
  /** Versions 1..version-1, each with its upcaster. Registering an incomplete chain fails at start-up. */
  history?: HistoricVersion[];
  /**
   * Every property of the latest shape, classified: a personal field (`'text'`, `'email'`),
   * encrypted at append with the person's key and read as a marker once the person is
   * erased, or `false`. Required for every version when the store has personal data enabled.
   */
  personalData?: PersonalDataDeclaration;
}

/** Identity helper that gives type inference and a single place to read a definition. */
export function defineEvent<E extends object>(definition: EventDefinition<E>): EventDefinition<E> {
  return definition;
}
