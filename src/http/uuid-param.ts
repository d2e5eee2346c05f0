import { ArgumentMetadata, BadRequestException, Injectable, Param, PipeTransform } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { isUUID } from 'class-validator';

/** Refuses a path parameter that is not a UUID with a 400 naming it, in the words of validation-messages.ts. */
@Injectable()
export class UuidPipe implements PipeTransform<unknown, string> {
  transform(value: unknown, { data }: ArgumentMetadata): string {
    if (typeof value !== 'string' || !isUUID(value, 'all')) throw new BadRequestException(`${data}: must be a UUID`);
    return value;
  }
}

/**
 * A UUID path parameter (`:id`, `:fileId`), checked and documented. A params DTO through the
 * global ValidationPipe (class-transformer, then class-validator) cost far more than this one
 * regex test (docs/BENCHMARKS.md, round 3: "UUID path parameters through UuidPipe").
 */
export function UuidParam(name: string, description?: string): ParameterDecorator {
  return (target, method, index) => {
    Param(name, UuidPipe)(target, method, index);
    const descriptor = Object.getOwnPropertyDescriptor(target, method!)!;
    ApiParam({ name, format: 'uuid', description })(target, method!, descriptor);
  };
}
