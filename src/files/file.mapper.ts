import type { FileDto, FileSummaryDto } from './file.dto';
import type { FileRow, FileSummaryRow } from './file.entity';

export function toFileSummaryDto(row: FileSummaryRow): FileSummaryDto {
  return {
    id: row.id,
    path: row.path,
    sizeBytes: row.sizeBytes,
    language: row.language,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export function toFileDto(row: FileRow): FileDto {
  return { ...toFileSummaryDto(row), content: row.content };
}
