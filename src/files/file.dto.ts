import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength, registerDecorator, ValidateIf } from 'class-validator';
import { PageQuery } from '../http/pagination.dto';
import { FILE_PATH_MAX_LENGTH, filePathProblem, WITHOUT_CONTROL_CHARS } from './file-path';

const LANGUAGE_MAX_LENGTH = 64;

const PATH_DOC = {
  minLength: 1,
  maxLength: FILE_PATH_MAX_LENGTH,
  example: 'src/main.ts',
  description: "relative, '/' or '\\' separated; no '.' or '..' or empty segments, no drive letter, no control characters",
};
const CONTENT_DOC = { description: 'UTF-8 text; at most FILE_MAX_BYTES bytes (default 1 MiB) or 413' };
const LANGUAGE_DOC = { type: String, minLength: 1, maxLength: LANGUAGE_MAX_LENGTH, nullable: true, example: 'typescript' };
const NO_CONTROL_CHARS = { message: '$property: must not contain control characters (U+0000-U+001F, U+007F)' };

/** A class-validator decorator from a function that names the problem, so each failure says exactly what is wrong. */
function Checked(name: string, problem: (value: unknown) => string | undefined): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: propertyName as string,
      validator: {
        validate: (value: unknown) => problem(value) === undefined,
        defaultMessage: (args) => problem(args?.value) ?? '',
      },
    });
}

/** A project file path (see file-path.ts), or 400 naming the field and the rule it breaks. */
const IsFilePath = () => Checked('isFilePath', (value) => (typeof value === 'string' ? filePathProblem(value) : 'must be a string'));

export class CreateFileBody {
  @ApiProperty(PATH_DOC)
  @IsFilePath()
  path: string;

  @ApiProperty(CONTENT_DOC)
  @IsString()
  content: string;

  @ApiPropertyOptional(LANGUAGE_DOC)
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(LANGUAGE_MAX_LENGTH)
  @Matches(WITHOUT_CONTROL_CHARS, NO_CONTROL_CHARS)
  language?: string | null;
}

export class UpdateFileBody {
  @ApiPropertyOptional(PATH_DOC)
  // null is not "unchanged": it must fail like any other non-path.
  @ValidateIf((_o, value) => value !== undefined)
  @IsFilePath()
  path?: string;

  @ApiPropertyOptional(CONTENT_DOC)
  @ValidateIf((_o, value) => value !== undefined)
  @IsString()
  content?: string;

  @ApiPropertyOptional({ ...LANGUAGE_DOC, description: 'null clears it' })
  @ValidateIf((_o, value) => value !== null)
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(LANGUAGE_MAX_LENGTH)
  @Matches(WITHOUT_CONTROL_CHARS, NO_CONTROL_CHARS)
  language?: string | null;
}

export class ListFilesQuery extends PageQuery {
  @ApiPropertyOptional({
    maxLength: FILE_PATH_MAX_LENGTH,
    example: 'src/',
    description: 'only paths starting with exactly this text (no wildcards)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(FILE_PATH_MAX_LENGTH)
  @Matches(WITHOUT_CONTROL_CHARS, NO_CONTROL_CHARS)
  prefix?: string;
}

export class FileSummaryDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'src/main.ts' })
  path: string;

  @ApiProperty({ type: 'integer', minimum: 0, description: 'UTF-8 length of the content' })
  sizeBytes: number;

  @ApiProperty({ type: String, nullable: true })
  language: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}

export class FileDto extends FileSummaryDto {
  @ApiProperty()
  content: string;
}

export class FilePage {
  @ApiProperty({ type: [FileSummaryDto] })
  items: FileSummaryDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor: string | null;
}
