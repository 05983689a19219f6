import * as cv from 'class-validator';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import type { ClassOf } from './event-definition';

/** A shape's class-validator rules, compiled. */
export interface CompiledCheck {
  /**
   * Would `validateSync(object, { forbidUnknownValues: true })` report nothing for an instance of
   * the shape? `targetName` is what class-validator passes validators (the instance's class name).
   */
  accepts(object: object, targetName: string | undefined): boolean;
  /** The validated property names. */
  properties: string[];
  /** True when every condition is IsOptional (reads only its own property); ValidateIf may read anything. */
  onlyOptionalConditions: boolean;
}

/**
 * Built-in class-validator decorators whose verdict depends only on the value and the
 * decorator's constraints (no other property, no container, no I/O). A shape using
 * anything else (custom constraints, nested or promise validation, `each`, async
 * validators) is not compiled: it is validated by class-validator itself.
 */
export const COMPILABLE_DECORATORS: ReadonlySet<string> = new Set([
  cv.IS_DEFINED,
  cv.IS_OPTIONAL,
  cv.IS_STRING,
  cv.IS_INT,
  cv.IS_NUMBER,
  cv.IS_BOOLEAN,
  cv.IS_POSITIVE,
  cv.IS_NEGATIVE,
  cv.MIN,
  cv.MAX,
  cv.IS_LENGTH,
  cv.MIN_LENGTH,
  cv.MAX_LENGTH,
  cv.IS_EMAIL,
  cv.IS_ISO8601,
  cv.IS_DATE_STRING,
  cv.IS_UUID,
  cv.IS_IN,
  cv.IS_NOT_IN,
  cv.IS_NOT_EMPTY,
  cv.IS_EMPTY,
  cv.EQUALS,
  cv.NOT_EQUALS,
  cv.MATCHES,
  cv.IS_ENUM,
  cv.IS_ARRAY,
  cv.IS_OBJECT,
  cv.ARRAY_MIN_SIZE,
  cv.ARRAY_MAX_SIZE,
  cv.ARRAY_NOT_EMPTY,
  cv.IS_URL,
  cv.IS_DIVISIBLE_BY,
  cv.CONTAINS,
  cv.NOT_CONTAINS,
  cv.IS_ALPHA,
  cv.IS_ALPHANUMERIC,
  cv.IS_HEXADECIMAL,
  cv.IS_LOWERCASE,
  cv.IS_UPPERCASE,
  cv.IS_DATE,
  cv.IS_NUMBER_STRING,
  cv.IS_BOOLEAN_STRING,
  cv.IS_HEX_COLOR,
]);

/** One decorator's verdict on a property value; `object` and `property` are passed as class-validator passes them. */
interface PropertyRule {
  property: string;
  /** IsOptional / ValidateIf: when any returns false, the property's other rules are skipped. */
  conditions: Array<(object: object, value: unknown) => boolean>;
  /** IsDefined and the custom validations; the verdict is their AND, so their order does not matter. */
  validators: Array<{ validate: (value: unknown, args: object) => unknown; constraints: unknown[] }>;
}

/**
 * Compiles the class-validator metadata of `shape` once into a predicate that calls the
 * very validator functions class-validator calls, with the same arguments, so its
 * verdict equals class-validator's by construction (and a test checks it on a corpus).
 * Returns undefined when some decorator is not in {@link COMPILABLE_DECORATORS} or uses
 * an option that changes how class-validator applies it: that shape stays on the slow path.
 */
export function compileCheck(shape: ClassOf<object>): CompiledCheck | undefined {
  const storage = getMetadataStorage();
  // The same query validateSync(instance, { forbidUnknownValues: true }) makes (no groups, always off).
  const metadatas = storage.getTargetValidationMetadatas(shape, undefined as unknown as string, false, false, undefined);
  if (metadatas.length === 0) return undefined; // forbidUnknownValues reports an error: let class-validator word it
  const rules = new Map<string, PropertyRule>();
  for (const metadata of metadatas) {
    const rule = rules.get(metadata.propertyName) ?? { property: metadata.propertyName, conditions: [], validators: [] };
    rules.set(metadata.propertyName, rule);
    if (!addRule(rule, metadata, storage)) return undefined;
  }
  const compiled = [...rules.values()];
  const onlyOptionalConditions = metadatas.every((m) => m.type !== ValidationTypes.CONDITIONAL_VALIDATION || m.name === cv.IS_OPTIONAL);
  const accepts = (object: object, targetName: string | undefined): boolean => {
    // One arguments object per call, refilled per validator: the compilable validators read it and never keep it.
    const args = { targetName, property: '', object, value: undefined as unknown, constraints: undefined as unknown[] | undefined };
    for (const { property, conditions, validators } of compiled) {
      const value = (object as Record<string, unknown>)[property];
      let applies = true;
      for (const condition of conditions) applies = condition(object, value) && applies; // class-validator evaluates them all
      if (!applies) continue;
      for (const { validate, constraints } of validators) {
        args.property = property;
        args.value = value;
        args.constraints = constraints;
        if (!validate(value, args)) return false;
      }
    }
    return true;
  };
  return { accepts, properties: compiled.map((r) => r.property), onlyOptionalConditions };
}

type Storage = ReturnType<typeof getMetadataStorage>;
type ValidationMetadata = ReturnType<Storage['getTargetValidationMetadatas']>[number];

/** Adds one decorator to its property's rule; false when the decorator cannot be compiled faithfully. */
function addRule(rule: PropertyRule, metadata: ValidationMetadata, storage: Storage): boolean {
  if (metadata.each) return false;
  if (metadata.type === ValidationTypes.WHITELIST) return true; // only matters with the whitelist option, which is off
  if (metadata.type === ValidationTypes.CONDITIONAL_VALIDATION) {
    const condition: unknown = metadata.constraints?.[0];
    if (typeof condition !== 'function') return false;
    rule.conditions.push(condition as (object: object, value: unknown) => boolean);
    return true;
  }
  const isCustom = metadata.type === ValidationTypes.CUSTOM_VALIDATION || metadata.type === ValidationTypes.IS_DEFINED;
  if (!isCustom || !metadata.name || !COMPILABLE_DECORATORS.has(metadata.name)) return false;
  const constraints = storage.getTargetValidatorConstraints(metadata.constraintCls);
  if (constraints.length !== 1 || constraints[0].async) return false;
  const instance = constraints[0].instance as { validate: (value: unknown, args: object) => unknown };
  const validate = instance.validate.bind(instance);
  rule.validators.push({
    validate: metadata.name === cv.IS_ISO8601 ? withCanonicalDateFastPath(validate) : validate,
    constraints: metadata.constraints,
  });
  return true;
}

/**
 * Most stored dates are what `toISOString` wrote (`2026-11-30T01:02:03.456Z`). Such a string
 * with a real calendar date is a valid ISO 8601 date under every option of `IsISO8601`
 * (strict included), so it is accepted by a digit scan instead of the validator's regular
 * expressions; anything else gets the validator's own verdict. The fast path only ever says
 * yes where the validator would.
 */
function withCanonicalDateFastPath(validate: (value: unknown, args: object) => unknown) {
  return (value: unknown, args: object): unknown => (typeof value === 'string' && isCanonicalDate(value)) || validate(value, args);
}

const DIGIT_POSITIONS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22];
const SEPARATORS: Array<[number, number]> = [
  [4, 45],
  [7, 45],
  [10, 84],
  [13, 58],
  [16, 58],
  [19, 46],
  [23, 90],
]; // - - T : : . Z

function isCanonicalDate(text: string): boolean {
  if (text.length !== 24) return false;
  for (const [at, code] of SEPARATORS) if (text.charCodeAt(at) !== code) return false;
  for (const at of DIGIT_POSITIONS) {
    const code = text.charCodeAt(at);
    if (code < 48 || code > 57) return false;
  }
  const number = (from: number, length: number) => {
    let n = 0;
    for (let i = from; i < from + length; i++) n = n * 10 + text.charCodeAt(i) - 48;
    return n;
  };
  const [year, month, day] = [number(0, 4), number(5, 2), number(8, 2)];
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  return (
    year >= 1000 && month >= 1 && month <= 12 && day >= 1 && day <= days && number(11, 2) < 24 && number(14, 2) < 60 && number(17, 2) < 60
  );
}
