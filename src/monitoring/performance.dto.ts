import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';

export class OperationParam {
  @ApiProperty({ example: 'GET /api/projects/:id' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  operation: string;
}
