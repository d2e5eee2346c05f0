import { ApiProperty } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';

/** `:id` path parameter: a UUID, or 400 naming `id`. */
export class IdParam {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all')
  id: string;
}
