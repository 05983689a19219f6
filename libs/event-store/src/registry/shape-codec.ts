import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { compileCheck, type CompiledCheck } from './compiled-check';
import type { ClassOf } from './event-definition';
import { compileInstantiate, NOT_PLAIN, type Instantiate } from './plain-instance';

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

  constructor(readonly shape: ClassOf<T>, mode: DecodingMode = 'compiled') {
    if (mode === 'compiled') {
      this.check = compileCheck(shape);
      this.build = compileInstantiate(shape);
    }
  }

  /** Which halves run compiled; a false one means class-validator / class-transformer does that half for this shape. */
  get compiled(): { check: boolean; instantiate: boolean } {
    return { check: this.check !== undefined, instantiate: this.build !== undefined };
  }

  /** Exactly what `plainToInstance(shape, data)` returns. */
  instantiate(data: unknown): T {
    const built = this.build?.(data) ?? NOT_PLAIN;
    return built === NOT_PLAIN ? (plainToInstance(this.shape, data) as T) : built;
  }

  /** `path: message` for every failing constraint, exactly as class-validator words them; empty when valid. */
  violations(instance: object): string[] {
    // The compiled check knows this shape's rules only; class-validator picks rules by the instance's constructor.
    if (instance.constructor === this.shape && this.check?.(instance)) return [];
    return describe(validateSync(instance, { forbidUnknownValues: true }));
  }
}

/** Flattens class-validator errors into `path: message` strings, one per failing constraint. */
export function describe(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((m) => `${path}: ${m}`);
    return [...own, ...describe(e.children ?? [], path)];
  });
}
