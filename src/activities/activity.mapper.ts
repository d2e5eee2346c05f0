import type { ActivityDto } from './activity.dto';
import type { ActivityRow } from './activity.entity';

export function toActivityDto(row: ActivityRow): ActivityDto {
  return {
    id: row.id,
    projectId: row.projectId,
    agent: row.agent,
    action: row.action,
    payload: row.payload,
    createdAt: row.createdAt,
  };
}
