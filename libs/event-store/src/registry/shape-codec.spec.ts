import 'reflect-metadata';
import { Expose, plainToInstance, Transform, Type } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsEmail,
  IsEnum,
  IsIn,
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsNumber,
  IsOptional,
  IsPositive,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  registerDecorator,
  Validate,
  ValidateIf,
  ValidateNested,
  validateSync,
  type ValidatorConstraintInterface,
  ValidatorConstraint,
} from 'class-validator';
import fc from 'fast-check';
import { copyStoredData } from './plain-instance';
import { describe as describeErrors, ShapeCodec } from './shape-codec';

enum Colour {
  Red = 'red',
  Blue = 'blue',
}

/** Uses most compilable decorators, with options, so the agreement below covers their argument passing. */
class Everything {
  constructor(props?: Partial<Everything>) {
    Object.assign(this, props);
  }
  @IsString() @Length(2, 5) code: string;
  @IsInt() @Min(-3) @Max(7) count: number;
  @IsOptional() @IsNumber({ allowNaN: false, maxDecimalPlaces: 2 }) @IsPositive() price?: number;
  @IsDefined() @IsBoolean() active: boolean;
  @IsOptional() @IsEmail() email?: string;
  @IsOptional() @IsISO8601({ strict: true }) at?: string;
  @IsOptional() @IsIn(['a', 'b', 1]) pick?: unknown;
  @IsOptional() @Matches(/^x+$/i) xs?: string;
  @IsOptional() @IsUUID('4') id?: string;
  @IsOptional() @IsArray() @ArrayMinSize(1) tags?: unknown[];
  @IsOptional() @IsEnum(Colour) colour?: Colour;
  @IsOptional() @IsNotEmpty() @MaxLength(3) note?: string;
  describeMe(): string {
    return this.code;
  }
}

const hostile = fc.oneof(
  fc.constantFrom(
    null,
    undefined,
    '',
    ' ',
    'ab',
    'abcdef',
    'XXX',
    'a@b.co',
    'not-an-email',
    '2025-01-01T00:00:00.000Z',
    '2025-02-30',
    'b',
    1,
    0,
    -3,
    -4,
    7,
    8,
    1.5,
    2.345,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    true,
    false,
    [],
    [1],
    {},
    { a: 1 },
    'red',
    'green',
    '0b2c4f4e-8a4b-4b0e-9b8e-6a2f7d0c6d1a',
    'xyz',
    '17',
  ),
  fc.anything(),
);
const keys = [
  'code',
  'count',
  'price',
  'active',
  'email',
  'at',
  'pick',
  'xs',
  'id',
  'tags',
  'colour',
  'note',
  'extra',
  'toString',
  'describeMe',
  'constructor',
  '__proto__',
];
const shapeData = fc.dictionary(fc.constantFrom(...keys), hostile, { maxKeys: 10 }).map((d) => {
  // fc.dictionary sets "__proto__" through assignment; JSON.parse makes it an own key, which is what the store sees.
  return JSON.parse(JSON.stringify(d, (_k, v) => (v === undefined ? null : v))) as Record<string, unknown>;
});
const valid = { code: 'abc', count: 3, active: true };

function reference<T extends object>(shape: new () => T, data: unknown): { instance: T; violations: string[] } {
  const instance = plainToInstance<T, unknown>(shape, data);
  return { instance, violations: describeErrors(validateSync(instance, { forbidUnknownValues: true })) };
}

/** The instance (prototype and own fields) and messages, or the error when the reference itself throws. */
function outcome(run: () => { instance: object; violations: string[] }) {
  try {
    const { instance, violations } = run();
    return { prototype: Object.getPrototypeOf(instance), instance, violations };
  } catch (error) {
    return { threw: String(error) };
  }
}

function expectSameAsReference<T extends object>(codec: ShapeCodec<T>, data: unknown): void {
  const expected = outcome(() => reference(codec.shape, data));
  const actual = outcome(() => {
    const instance = codec.instantiate(data);
    return { instance, violations: codec.violations(instance) };
  });
  expect(actual).toStrictEqual(expected);
}

describe('ShapeCodec', () => {
  const everything = new ShapeCodec(Everything);

  it('compiles a shape made of built-in decorators', () => {
    expect(everything.compiled).toEqual({ check: true, instantiate: true });
  });

  it('agrees with plainToInstance + validateSync on a valid and on hand-picked hostile data', () => {
    expectSameAsReference(everything, valid);
    expectSameAsReference(everything, { ...valid, code: 'a', count: 1.5, active: 'yes', email: 'nope', tags: [] });
    expectSameAsReference(everything, JSON.parse('{"__proto__": {"code": "abc"}, "constructor": 1, "toString": 2, "describeMe": 3}'));
    expectSameAsReference(everything, { ...valid, nested: { constructor: 'x' } }); // class-transformer throws here: so do we
    expectSameAsReference(everything, { ...valid, list: [1, { toString: 1, a: [null] }] });
  });

  it('agrees with plainToInstance + validateSync on generated data (instances, verdicts and messages)', () => {
    fc.assert(
      fc.property(shapeData, (data) => expectSameAsReference(everything, data)),
      { numRuns: 700 },
    );
  });

  it('agrees on generated data around a valid object (one or two fields changed)', () => {
    const nearlyValid = fc
      .record({ key: fc.constantFrom(...keys), value: hostile, key2: fc.constantFrom(...keys), value2: hostile })
      .map(({ key, value, key2, value2 }) =>
        JSON.parse(JSON.stringify({ ...valid, [key]: value, [key2]: value2 }, (_k, v) => (v === undefined ? null : v))),
      );
    fc.assert(
      fc.property(nearlyValid, (data) => expectSameAsReference(everything, data)),
      { numRuns: 700 },
    );
  });

  it('agrees on date strings shaped like toISOString output (the IsISO8601 fast path), valid calendar dates or not', () => {
    const digits = (n: number) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((d) => d.join(''));
    const shaped = fc
      .tuple(
        digits(4),
        fc.constantFrom('01', '02', '04', '09', '12', '13', '00', '11'),
        fc.constantFrom('01', '28', '29', '30', '31', '32', '00'),
        digits(2),
        digits(2),
        digits(2),
        digits(3),
      )
      .map(([y, m, d, h, mi, s, ms]) => `${y}-${m}-${d}T${h}:${mi}:${s}.${ms}Z`);
    const real = fc.date({ min: new Date(-1e14), max: new Date(3e14), noInvalidDate: true }).map((date) => date.toISOString());
    fc.assert(
      fc.property(fc.oneof(shaped, real, fc.constant('2024-02-29T23:59:59.999Z'), fc.constant('2023-02-29T00:00:00.000Z')), (at) =>
        expectSameAsReference(everything, { ...valid, at }),
      ),
      { numRuns: 1_000 },
    );
  });

  it('judges plain data without an instance only when the instance would be valid too', () => {
    let judged = 0;
    const check = (data: unknown) => {
      if (!everything.acceptsData(data)) return;
      judged++;
      expect(outcome(() => reference(Everything, data))).toMatchObject({ violations: [] });
    };
    fc.assert(fc.property(shapeData, check), { numRuns: Number(process.env.RUNS ?? 500) });
    const nearlyValid = fc
      .record({ key: fc.constantFrom(...keys), value: hostile })
      .map(({ key, value }) => JSON.parse(JSON.stringify({ ...valid, [key]: value }, (_k, v) => (v === undefined ? null : v))));
    fc.assert(fc.property(nearlyValid, check), { numRuns: Number(process.env.RUNS ?? 500) });
    check({ ...valid, nested: { constructor: 'x' } });
    expect(everything.acceptsData(valid)).toBe(true);
    expect(everything.acceptsData({ ...valid, nested: { constructor: 'x' } })).toBe(false); // class-transformer would throw
    expect(judged).toBeGreaterThan(50);
  });

  it('never judges data for shapes whose instances differ from their data', () => {
    class WithDefault {
      @IsInt() n = 1;
    }
    class WithCondition {
      @ValidateIf(() => true) @IsInt() n: number;
    }
    expect(new ShapeCodec(WithDefault).acceptsData({})).toBe(false);
    expect(new ShapeCodec(WithCondition).acceptsData({ n: 1 })).toBe(false);
  });

  it('agrees on data that is not a plain object', () => {
    for (const data of [null, 3, 'x', [valid], new Date(0), new Map()]) expectSameAsReference(everything, data);
  });
});

@ValidatorConstraint({ name: 'isEven' })
class IsEvenConstraint implements ValidatorConstraintInterface {
  validate(value: unknown) {
    return typeof value === 'number' && value % 2 === 0;
  }
}
function IsOdd(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isOdd',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: { validate: (v: unknown) => typeof v === 'number' && v % 2 === 1 },
    });
}
class Inner {
  @IsInt() n: number;
}
class WithCustomConstraint {
  @Validate(IsEvenConstraint) n: number;
}
class WithCustomDecorator {
  @IsOdd() n: number;
}
class WithNested {
  @ValidateNested() @Type(() => Inner) inner: Inner;
}
class WithEach {
  @IsInt({ each: true }) ns: number[];
}
class WithValidateIf {
  @ValidateIf((o: { on?: boolean }) => o.on === true) @IsInt() n: number;
}
class WithoutDecorators {
  n: number;
}
class WithExpose {
  @Expose({ name: 'renamed' }) @IsInt() n: number;
}
class WithTransform {
  @Transform(({ value }) => Number(value)) @IsInt() n: number;
}

describe('ShapeCodec fallbacks: what it cannot compile, class-validator / class-transformer do', () => {
  it.each([
    ['a custom constraint class', WithCustomConstraint, { n: 3 }],
    ['a custom decorator', WithCustomDecorator, { n: 2 }],
    ['nested validation', WithNested, { inner: { n: 'x' } }],
    ['each: true', WithEach, { ns: [1, 'x'] }],
    ['no decorators (forbidUnknownValues)', WithoutDecorators, { n: 1 }],
  ])("%s: not compiled, and invalid data is still rejected with class-validator's words", (_name, shape, invalid) => {
    const codec = new ShapeCodec<object>(shape);
    expect(codec.compiled.check).toBe(false);
    const violations = codec.violations(codec.instantiate(invalid));
    expect(violations.length).toBeGreaterThan(0);
    expect(violations).toEqual(reference(shape as new () => object, invalid).violations);
  });

  it('compiles ValidateIf as class-validator applies it', () => {
    const codec = new ShapeCodec(WithValidateIf);
    expect(codec.compiled.check).toBe(true);
    for (const data of [
      { on: true, n: 'x' },
      { on: false, n: 'x' },
      { on: true, n: 2 },
    ])
      expectSameAsReference(codec, data);
  });

  it.each([
    ['@Expose', WithExpose, { renamed: 4, n: 'x' }],
    ['@Transform', WithTransform, { n: '4' }],
    ['@Type', WithNested, { inner: { n: 1 } }],
  ])('%s: instances come from plainToInstance itself', (_name, shape, data) => {
    const codec = new ShapeCodec<object>(shape);
    expect(codec.compiled.instantiate).toBe(false);
    expectSameAsReference(codec, data);
  });

  it('the reference mode never compiles', () => {
    expect(new ShapeCodec(Everything, 'class-validator').compiled).toEqual({ check: false, instantiate: false });
  });
});

describe('copyStoredData', () => {
  it('equals structuredClone on JSON values and never shares a nested object', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const copy = copyStoredData(value);
        expect(copy).toStrictEqual(structuredClone(value));
        if (typeof value === 'object' && value !== null) expect(copy).not.toBe(value);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps an own "__proto__" key as a key and falls back to structuredClone for non-JSON values', () => {
    const parsed = JSON.parse('{"__proto__": {"a": 1}, "b": [1, 2]}');
    expect(Object.getOwnPropertyNames(copyStoredData(parsed))).toEqual(['__proto__', 'b']);
    expect(Object.getPrototypeOf(copyStoredData(parsed))).toBe(Object.prototype);
    const withDate = { at: new Date(5), m: new Map([[1, 2]]) };
    expect(copyStoredData(withDate)).toStrictEqual(structuredClone(withDate));
  });
});
