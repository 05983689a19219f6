import {
  EventLocation,
  EventRegistryError,
  EventValidationError,
  InvalidAppendError,
  MissingUpcasterError,
  UnknownEventTypeError,
  UpcastFailedError,
} from '../errors';
import type { EventToAppend, EventMetadata, RecordedEvent, StoredEvent } from '../types';
import type { ClassOf, EventDefinition, HistoricVersion, UpcastContext } from './event-definition';
import type { PersonalFields } from '../personal-data/personal-fields';
import { checkPersonalData, type VersionView } from './personal-data-check';
import { copyStoredData } from './plain-instance';
import { ShapeCodec, type DecodingMode } from './shape-codec';

interface CompiledDefinition {
  definition: EventDefinition;
  /** chain[v] upcasts version v to v+1, for v in 1..latest-1, with the codec of version v's shape if it has one. */
  chain: Map<number, HistoricVersion & { codec?: ShapeCodec }>;
  /** Decodes and validates the latest shape. */
  codec: ShapeCodec;
  /** Personal fields per schema version (versions without any are absent). */
  personal: Map<number, PersonalFields>;
}

/** Options of an {@link EventRegistry}. */
export interface EventRegistryOptions {
  /**
   * `'compiled'` (default): each shape's class-validator metadata is compiled once into a fast
   * check; `'class-validator'`: plainToInstance + validateSync on every event (the reference path).
   */
  decoding?: DecodingMode;
  /**
   * Every version of every event type must classify each property of its shape as personal
   * or not (`personalData`). The store sets it when personal data is enabled.
   */
  requirePersonalData?: boolean;
}

/**
 * Knows every event type, composes upcaster chains and validates shapes.
 * Construction checks the whole configuration, so a version registered
 * without its upcaster fails at start-up rather than at replay.
 */
export class EventRegistry {
  private readonly byType = new Map<string, CompiledDefinition>();
  private readonly byClass = new Map<ClassOf<object>, CompiledDefinition>();

  private readonly decoding: DecodingMode;
  private readonly requirePersonalData: boolean;

  constructor(definitions: EventDefinition[] = [], options: EventRegistryOptions = {}) {
    this.decoding = options.decoding ?? 'compiled';
    this.requirePersonalData = options.requirePersonalData ?? false;
    definitions.forEach((d) => this.register(d));
  }

  /** Adds one event type; throws `EventRegistryError` when the definition is inconsistent. */
  register(definition: EventDefinition): void {
    const { type, version, eventClass, history = [] } = definition;
    if (!type || typeof type !== 'string') throw new EventRegistryError('Event type name must be a non-empty string');
    if (!Number.isInteger(version) || version < 1) {
      throw new EventRegistryError(`${type}: current version must be an integer >= 1, got ${version}`);
    }
    if (this.byType.has(type)) throw new EventRegistryError(`${type}: registered twice`);
    if (this.byClass.has(eventClass)) {
      throw new EventRegistryError(`${type}: class ${eventClass.name} is already registered as another type`);
    }
    const chain: CompiledDefinition['chain'] = new Map();
    for (const h of history) {
      if (!Number.isInteger(h.version) || h.version < 1 || h.version >= version) {
        throw new EventRegistryError(`${type}: historic version ${h.version} must be between 1 and ${version - 1}`);
      }
      if (chain.has(h.version)) throw new EventRegistryError(`${type}: historic version ${h.version} declared twice`);
      if (typeof h.upcast !== 'function') {
        throw new EventRegistryError(`${type}: version ${h.version} has no upcaster to v${h.version + 1}`);
      }
      chain.set(h.version, { ...h, codec: h.shape && new ShapeCodec(h.shape, this.decoding) });
    }
    for (let v = 1; v < version; v++) {
      if (!chain.has(v)) throw new EventRegistryError(`${type}: missing version ${v} with its upcaster to v${v + 1}`);
    }
    const codec = new ShapeCodec(eventClass, this.decoding);
    const views = new Map<number, VersionView>(
      [...chain].map(([v, h]) => [v, { declaration: h.personalData, codec: h.codec, upcast: h.upcast }]),
    );
    views.set(version, { declaration: definition.personalData, codec });
    const personal = checkPersonalData(definition, views, this.requirePersonalData);
    const compiled = { definition, chain, codec, personal };
    this.byType.set(type, compiled);
    this.byClass.set(eventClass, compiled);
  }

  /** Registered type names with their current versions. */
  types(): Array<{ type: string; version: number }> {
    return [...this.byType.values()].map(({ definition }) => ({ type: definition.type, version: definition.version }));
  }

  /** The definition registered for `type`, if any. */
  definitionOf(type: string): EventDefinition | undefined {
    return this.byType.get(type)?.definition;
  }

  /** The personal fields of `type` at schema `version`; undefined when it has none. */
  personalFields(type: string, version: number): PersonalFields | undefined {
    return this.byType.get(type)?.personal.get(version);
  }

  /** Serialises a latest-version event instance for storage; validates it first so invalid events are never written. */
  serialize(event: object, metadata?: EventMetadata, eventId?: string): EventToAppend {
    const compiled = this.byClass.get(event.constructor as ClassOf<object>);
    if (!compiled) throw new InvalidAppendError(`Event class ${event.constructor.name} is not registered`);
    const { type, version } = compiled.definition;
    const violations = compiled.codec.violations(event);
    if (violations.length) throw new InvalidAppendError(`${type} v${version} is invalid: ${violations.join('; ')}`);
    const data = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
    return { type, schemaVersion: version, data, metadata, eventId };
  }

  /**
   * Turns a stored event of any known version into its latest shape.
   * Throws a typed `EventReadError` carrying the event's location otherwise.
   */
  upcast<E = unknown>(stored: StoredEvent): RecordedEvent<E> {
    const compiled = this.byType.get(stored.type);
    if (!compiled) throw new UnknownEventTypeError(locate(stored), `type "${stored.type}" is not registered`);
    const latest = compiled.definition.version;
    const from = stored.schemaVersion;
    if (!Number.isInteger(from) || from < 1 || from > latest) {
      throw new MissingUpcasterError(locate(stored), `no upcaster path from schema v${from} (latest is v${latest})`);
    }
    const data = from < latest ? this.upcastData(compiled, stored) : stored.data;
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new EventValidationError(locate(stored), ['data must be a JSON object']);
    }
    const instance = compiled.codec.instantiate(data) as E; // a deep copy: stored data is never shared with the caller
    const violations = compiled.codec.violations(instance as object);
    if (violations.length) throw new EventValidationError(locate(stored), violations);
    return {
      position: stored.position,
      streamId: stored.streamId,
      streamVersion: stored.streamVersion,
      eventId: stored.eventId,
      type: stored.type,
      schemaVersion: latest,
      storedSchemaVersion: from,
      data: instance,
      metadata: stored.metadata,
      recordedAt: stored.recordedAt, // named fields: object rest/spread is slow on a hot path
    };
  }

  /** Validates each historic version's shape and applies its upcaster, from the stored version to the latest. */
  private upcastData({ definition, chain }: CompiledDefinition, stored: StoredEvent): unknown {
    // Copies rather than Object.freeze (which costs more than the rest of a decode): whatever an
    // impure upcaster does to its context or data, the caller's stored event stays as it was.
    const context: UpcastContext = { streamId: stored.streamId, metadata: copyStoredData(stored.metadata), recordedAt: stored.recordedAt };
    // Upcasters get their own copy, so a careless one cannot change the caller's stored event.
    let data: unknown = copyStoredData(stored.data);
    for (let v = stored.schemaVersion; v < definition.version; v++) {
      const step = chain.get(v)!;
      if (step.codec && !step.codec.acceptsData(data)) {
        const violations = step.codec.violations(step.codec.instantiate(data));
        if (violations.length)
          throw new EventValidationError(
            locate(stored),
            violations.map((m) => `v${v}: ${m}`),
          );
      }
      try {
        data = step.upcast(data, context);
      } catch (cause) {
        const reason = `upcaster v${v}->v${v + 1} threw: ${(cause as Error)?.message ?? cause}`;
        throw new UpcastFailedError(locate(stored), reason, { cause });
      }
    }
    return data;
  }
}

function locate(stored: StoredEvent): EventLocation {
  const { position, streamId, streamVersion, eventId, type, schemaVersion } = stored;
  return { position, streamId, streamVersion, eventId, type, schemaVersion };
}
