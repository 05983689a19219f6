import { getMetadataStorage } from 'class-validator';
import { EventRegistryError } from '../errors';
import { ERASED_MARKERS, personalFieldsOf, type PersonalDataDeclaration, type PersonalFields } from '../personal-data/personal-fields';
import type { ClassOf, EventDefinition, HistoricVersion, UpcastContext } from './event-definition';
import type { ShapeCodec } from './shape-codec';

/** One version of an event type as the check sees it. */
export interface VersionView {
  declaration?: PersonalDataDeclaration;
  codec?: ShapeCodec;
  upcast?: HistoricVersion['upcast'];
}

const MARKER_CONTEXT: UpcastContext = { streamId: 'erased', metadata: {}, recordedAt: '1970-01-01T00:00:00.000Z' };

/**
 * Checks an event type's personal-data declarations and returns its personal fields per
 * schema version. With `required`, every version must declare every property of its shape
 * (so a new field cannot be forgotten silently). Each declared field must be a property of
 * the shape, and the erased markers must read as valid data: at their own version, and after
 * every upcaster to the latest (each upcaster is run on the markers alone).
 */
export function checkPersonalData(
  definition: EventDefinition,
  versions: Map<number, VersionView>,
  required: boolean,
): Map<number, PersonalFields> {
  const { type } = definition;
  const fields = new Map<number, PersonalFields>();
  for (const [version, view] of versions) {
    const shape = view.codec?.shape;
    if (required && !view.declaration) throw new EventRegistryError(`${type} v${version}: declare personalData for every property`);
    if (view.declaration && shape) checkCoverage(`${type} v${version}`, shape, view.declaration);
    const personal = personalFieldsOf(view.declaration);
    if (Object.keys(personal).length) fields.set(version, personal);
  }
  for (const [version, personal] of fields) checkMarkers(type, version, personal, versions, fields);
  return fields;
}

/** Every property of `shape` is classified, and nothing else is. */
function checkCoverage(where: string, shape: ClassOf<object>, declaration: PersonalDataDeclaration): void {
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(shape, undefined as unknown as string, false, false, undefined);
  const properties = new Set(metadatas.map((m) => m.propertyName));
  const unclassified = [...properties].filter((p) => !(p in declaration));
  if (unclassified.length) {
    throw new EventRegistryError(`${where}: personalData does not classify ${unclassified.join(', ')} (personal kind or false)`);
  }
  const unknown = Object.keys(declaration).filter((p) => !properties.has(p));
  if (unknown.length) throw new EventRegistryError(`${where}: personalData names ${unknown.join(', ')}, not properties of the shape`);
}

/** The markers of version `from` are valid there and, upcast, valid personal fields of every later version. */
function checkMarkers(
  type: string,
  from: number,
  personal: PersonalFields,
  versions: Map<number, VersionView>,
  fields: Map<number, PersonalFields>,
): void {
  let data: Record<string, unknown> = Object.fromEntries(Object.entries(personal).map(([f, kind]) => [f, ERASED_MARKERS[kind]]));
  const latest = Math.max(...versions.keys());
  for (let v = from; ; v++) {
    const view = versions.get(v)!;
    const bad = markerViolations(view.codec, data, Object.keys(fields.get(v) ?? {}));
    if (bad.length) throw new EventRegistryError(`${type}: erased markers of v${from} are invalid at v${v}: ${bad.join('; ')}`);
    if (v === latest) return;
    try {
      data = view.upcast!(data, MARKER_CONTEXT) as Record<string, unknown>;
    } catch (cause) {
      throw new EventRegistryError(`${type}: upcaster v${v}->v${v + 1} throws on the erased markers of v${from}: ${String(cause)}`);
    }
  }
}

/** The violations of `data` that concern the given fields (the other properties are absent here). */
function markerViolations(codec: ShapeCodec | undefined, data: Record<string, unknown>, fieldNames: string[]): string[] {
  if (!codec) return [];
  const present = fieldNames.filter((f) => f in data);
  return codec.violations(codec.instantiate(data)).filter((m) => present.some((f) => m.startsWith(`${f}:`) || m.startsWith(`${f}.`)));
}
