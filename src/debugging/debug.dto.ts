import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsNumber, IsOptional, Max, Min } from 'class-validator';
import { ToDecimal, ToInteger } from '../http/transforms';

export const MAX_TESTS = 100;
export const MAX_DELAY_S = 30;

export class DbTestQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_TESTS, default: 10, description: 'concurrent queries' })
  @IsOptional()
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(MAX_TESTS)
  num_tests: number = 10;

  @ApiPropertyOptional({ minimum: 0, maximum: MAX_DELAY_S, default: 1, description: 'seconds each query holds its connection' })
  @IsOptional()
  @ToDecimal()
  @IsNumber({ allowNaN: false, allowInfinity: false, maxDecimalPlaces: 3 })
  @Min(0)
  @Max(MAX_DELAY_S)
  delay: number = 1;
}
