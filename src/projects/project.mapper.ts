import type { ProjectActivitySummaryDto, ProjectDetailDto, ProjectDto, ProjectFileSummaryDto } from './project.dto';
import type { ProjectRow } from './project.entity';
import type { ProjectDetailRow } from './project.repository';

export function toProjectDto(row: ProjectRow): ProjectDto {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    status: row.status,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export function toProjectDetailDto(row: ProjectDetailRow): ProjectDetailDto {
  const dto: ProjectDetailDto = toProjectDto(row);
  if (row.files !== null) {
    dto.files = (row.files as ProjectFileSummaryDto[]).map((f) => ({
      id: f.id,
      path: f.path,
      sizeBytes: f.sizeBytes,
      language: f.language,
      updatedAt: f.updatedAt,
    }));
  }
  if (row.activities !== null) {
    dto.activities = (row.activities as ProjectActivitySummaryDto[]).map((a) => ({
      id: a.id,
      agent: a.agent,
      action: a.action,
      payload: a.payload,
      createdAt: a.createdAt,
    }));
  }
  return dto;
}
