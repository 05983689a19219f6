import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { compileCheck, type CompiledCheck } from './compiled-check';
import type { ClassOf } from './event-definition';
import { compileInstantiate, compileIsInstantiable, NOT_PLAIN, type Instantiate } from './plain-instance';

/** How shapes are decoded: compiled once per class (default), or by class-transformer/class-validator on every call. */
export type DecodingMode = 'compiled' | 'class-validator';

/**
 * Turns plain data into an instance of one class-validator shape and lists its violations.
 * The class stays the single source of truth: the compiled path calls class-validator's own
 * validator functions (see {@link compileCheck}) and builds what `plainToInstance` builds;
 * messages always come from class-validator, which runs only when the compiled verdict is
 * "invalid" (rare), so errors are identical by construction and valid events never pay for it.
 */
export class ShapeCodec<T extends object = object> {
  private readonly check?: CompiledCheck;
  private readonly build?: Instantiate<T>;
  /** Set when plain data can be judged without building the instance (see {@link acceptsData}). */
  private readonly dataProperties?: string[];
  private readonly instantiable?: (data: unknown) => boolean;

  constructor(
    readonly shape: ClassOf<T>,
    mode: DecodingMode = 'compiled',
  ) {
    if (mode === 'compiled') {
      this.check = compileCheck(shape);
      this.build = compileInstantiate(shape);
      if (this.check && this.build && canJudgeData(shape, this.check)) {
        this.dataProperties = this.check.properties;
        this.instantiable = compileIsInstantiable(shape);
      }
    }
  }

  /** Which halves run compiled; a false one means class-validator / class-transformer does that half for this shape. */
  get compiled(): { check: boolean; instantiate: boolean } {
    return { check: this.check !== undefined, instantiate: this.build !== undefined };
  }

  /** Exactly what `plainToInstance(shape, data)` returns. */
  instantiate(data: unknown): T {
    const built = this.build?.(data) ?? NOT_PLAIN;
    return built === NOT_PLAIN ? plainToInstance<T, unknown>(this.shape, data) : built;
  }

  /** `path: message` for every failing constraint, exactly as class-validator words them; empty when valid. */
  violations(instance: object): string[] {
    // The compiled check knows this shape's rules only; class-validator picks rules by the instance's constructor.
    if (instance.constructor === this.shape && this.check?.accepts(instance, this.shape.name)) return [];
    return describe(validateSync(instance, { forbidUnknownValues: true }));
  }

  /**
   * True when `violations(instantiate(data))` would be empty, decided on the data itself (no
   * instance built): for historic shapes, which are only validated, never returned. False means
   * "not known to be valid": call `violations(instantiate(data))` for the verdict and the words.
   * Only used where the instance would hold the very same values: the shape's constructor sets
   * no fields, no validated name is special to class-transformer, conditions are IsOptional
   * only, and every validated value is a primitive (copies of objects may drop keys).
   */
  acceptsData(data: unknown): boolean {
    const properties = this.dataProperties;
    // Data the instance path would hand to class-transformer (Dates, odd nesting) goes that way.
    if (!properties || !this.instantiable!(data)) return false;
    for (const property of properties) {
      const value = (data as Record<string, unknown>)[property];
      if (typeof value === 'object' && value !== null) return false;
    }
    return this.check!.accepts(data as object, this.shape.name);
  }
}

/** Whether a shape's instance, built from plain data, reads exactly like the data for every validated property. */
function canJudgeData(shape: ClassOf<object>, check: CompiledCheck): boolean {
  if (!check.onlyOptionalConditions) return false;
  try {
    if (Object.getOwnPropertyNames(new shape()).length > 0) return false; // field initialisers or a constructor that sets fields
  } catch {
    return false;
  }
  return check.properties.every((p) => p !== '__proto__' && p !== 'constructor' && !(p in shape.prototype));
}

/** Flattens class-validator errors into `path: message` strings, one per failing constraint. */
export function describe(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((m) => `${path}: ${m}`);
    return [...own, ...describe(e.children ?? [], path)];
  });
}
