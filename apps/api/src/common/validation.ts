import { ArgumentMetadata, Injectable, PipeTransform, ValidationError, ValidationPipe } from '@nestjs/common';
import { RequestValidationError } from './problem';

/** Flattens nested class-validator errors into `field.path: messages`. */
export function toFieldErrors(errors: ValidationError[], prefix = ''): Array<{ field: string; messages: string[] }> {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, messages: Object.values(e.constraints) }] : [];
    return [...own, ...toFieldErrors(e.children ?? [], field)];
  });
}

const common = {
  whitelist: true,
  forbidUnknownValues: true,
  transform: true,
  transformOptions: { enableImplicitConversion: false },
  exceptionFactory: (errors: ValidationError[]) => new RequestValidationError(toFieldErrors(errors)),
};

/**
 * Request validation, strict where it protects data and lenient where it
 * protects caches: bodies with unknown fields are refused (400); unknown
 * query parameters (cache-busting nonces, tracking ids) are dropped, so they
 * can neither bypass nor flood a cache. Every failing field is listed.
 */
@Injectable()
export class RequestValidationPipe implements PipeTransform {
  private readonly strict = new ValidationPipe({ ...common, forbidNonWhitelisted: true });
  private readonly lenient = new ValidationPipe(common);

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    return (metadata.type === 'query' ? this.lenient : this.strict).transform(value, metadata);
  }
}
