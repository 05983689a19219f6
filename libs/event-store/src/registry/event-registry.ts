import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
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
import type { ClassOf, EventDefinition, HistoricVersion } from './event-definition';

interface CompiledDefinition {
  definition: EventDefinition;
  /** chain[v] upcasts version v to v+1, for v in 1..latest-1. */
  chain: Map<number, HistoricVersion>;
}

/**
 * Knows every event type, composes upcaster chains and validates shapes.
 * Construction checks the whole configuration, so a version registered
 * without its upcaster fails at start-up rather than at replay.
 */
export class EventRegistry {
  private readonly byType = new Map<string, CompiledDefinition>();
  private readonly byClass = new Map<ClassOf<object>, CompiledDefinition>();

  constructor(definitions: EventDefinition[] = []) {
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
    const chain = new Map<number, HistoricVersion>();
    for (const h of history) {
      if (!Number.isInteger(h.version) || h.version < 1 || h.version >= version) {
        throw new EventRegistryError(`${type}: historic version ${h.version} must be between 1 and ${version - 1}`);
      }
      if (chain.has(h.version)) throw new EventRegistryError(`${type}: historic version ${h.version} declared twice`);
      if (typeof h.upcast !== 'function') {
        throw new EventRegistryError(`${type}: version ${h.version} has no upcaster to v${h.version + 1}`);
      }
      chain.set(h.version, h);
    }
    for (let v = 1; v < version; v++) {
      if (!chain.has(v)) throw new EventRegistryError(`${type}: missing version ${v} with its upcaster to v${v + 1}`);
    }
    const compiled = { definition, chain };
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

  /** Serialises a latest-version event instance for storage; validates it first so invalid events are never written. */
  serialize(event: object, metadata?: EventMetadata, eventId?: string): EventToAppend {
    const compiled = this.byClass.get(event.constructor as ClassOf<object>);
    if (!compiled) throw new InvalidAppendError(`Event class ${event.constructor.name} is not registered`);
    const { type, version } = compiled.definition;
    const violations = describe(validateSync(event, { forbidUnknownValues: true }));
    if (violations.length) throw new InvalidAppendError(`${type} v${version} is invalid: ${violations.join('; ')}`);
    const data = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
    return { type, schemaVersion: version, data, metadata, eventId };
  }

  /**
   * Turns a stored event of any known version into its latest shape.
   * Throws a typed `EventReadError` carrying the event's location otherwise.
   */
  upcast<E = unknown>(stored: StoredEvent): RecordedEvent<E> {
    const location = locate(stored);
    const compiled = this.byType.get(stored.type);
    if (!compiled) throw new UnknownEventTypeError(location, `type "${stored.type}" is not registered`);
    const latest = compiled.definition.version;
    const from = stored.schemaVersion;
    if (!Number.isInteger(from) || from < 1 || from > latest) {
      throw new MissingUpcasterError(location, `no upcaster path from schema v${from} (latest is v${latest})`);
    }
    const context = Object.freeze({
      streamId: stored.streamId,
      metadata: Object.freeze({ ...stored.metadata }),
      recordedAt: stored.recordedAt,
    });
    let data: unknown = structuredClone(stored.data);
    for (let v = from; v < latest; v++) {
      const step = compiled.chain.get(v)!;
      if (step.shape) {
        const violations = describe(validateSync(plainToInstance(step.shape, data), { forbidUnknownValues: true }));
        if (violations.length) throw new EventValidationError(location, violations.map((m) => `v${v}: ${m}`));
      }
      try {
        data = step.upcast(data, context);
      } catch (cause) {
        throw new UpcastFailedError(location, `upcaster v${v}->v${v + 1} threw: ${(cause as Error)?.message ?? cause}`, {
          cause,
        });
      }
    }
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new EventValidationError(location, ['data must be a JSON object']);
    }
    const instance = plainToInstance(compiled.definition.eventClass, data) as E;
    const violations = describe(validateSync(instance as object, { forbidUnknownValues: true }));
    if (violations.length) throw new EventValidationError(location, violations);
    const { data: _stored, ...envelope } = stored;
    return { ...envelope, storedSchemaVersion: from, schemaVersion: latest, data: instance };
  }
}

function locate(stored: StoredEvent): EventLocation {
  const { position, streamId, streamVersion, eventId, type, schemaVersion } = stored;
  return { position, streamId, streamVersion, eventId, type, schemaVersion };
}

/** Flattens class-validator errors into `path: message` strings, one per failing constraint. */
function describe(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((m) => `${path}: ${m}`);
    return [...own, ...describe(e.children ?? [], path)];
  });
}
