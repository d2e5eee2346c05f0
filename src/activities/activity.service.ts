import { Injectable, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import type { AuthUser } from '../access/auth.types';
import { CacheService } from '../cache/cache.service';
import { withConstraints } from '../database/constraint-answers';
import { CursorCodec, Page, toPage } from '../http/cursor';
import { Timed } from '../monitoring/performance-monitor';
import { ProjectService } from '../projects/project.service';
import { ActivityWriter } from './activity-writer';
import { ActivityWrites } from './activity.cache';
import { ActivityDto, ActivityList, CreateActivityBody, ListActivitiesQuery, MAX_PAYLOAD_BYTES } from './activity.dto';
import type { ActivityRow, NewActivity } from './activity.entity';
import { toActivityDto } from './activity.mapper';
import { ActivityRepository } from './activity.repository';

@Injectable()
export class ActivityService {
  constructor(
    private readonly projects: ProjectService,
    private readonly activities: ActivityRepository,
    private readonly writer: ActivityWriter,
    private readonly cursors: CursorCodec,
    private readonly cache: CacheService,
  ) {}

  async create(user: AuthUser, projectId: string, body: CreateActivityBody): Promise<ActivityDto> {
    const [row] = await this.write(user, projectId, [toNewActivity(projectId, body, 'payload')]);
    return toActivityDto(row);
  }

  /** All items or none: they travel in one statement. */
  async createMany(user: AuthUser, projectId: string, items: CreateActivityBody[]): Promise<ActivityList> {
    const rows = await this.write(
      user,
      projectId,
      items.map((item, i) => toNewActivity(projectId, item, `items.${i}.payload`)),
    );
    return { items: rows.map(toActivityDto) };
  }

  @Timed('activities.list')
  async list(user: AuthUser, projectId: string, query: ListActivitiesQuery): Promise<Page<ActivityDto>> {
    await this.projects.requireOwned(user, projectId);
    const { agent, action, since, until, order } = query;
    // A cursor pages only the list it came from: same project, filters and direction.
    const scope = JSON.stringify(['activities', projectId, order, agent ?? null, action ?? null, since ?? null, until ?? null]);
    const after = query.cursor === undefined ? undefined : this.cursors.decode(query.cursor, scope);
    const rows = await this.activities.findPage(projectId, { agent, action, since, until }, order, query.limit, after);
    return toPage(rows, query.limit, toActivityDto, (r: ActivityRow) => ({ key: r.createdAt, id: r.id }), (p) =>
      this.cursors.encode(p, scope),
    );
  }

  @Timed('activities.write')
  private async write(user: AuthUser, projectId: string, rows: NewActivity[]): Promise<ActivityRow[]> {
    await this.projects.requireOwned(user, projectId);
    const written = await withConstraints(this.writer.enqueue(rows), {
      // The project was deleted between the ownership check and the commit.
      foreignKey: () => new NotFoundException('Project not found'),
    });
    await this.cache.invalidate(ActivityWrites.appended(projectId));
    return written;
  }
}

/** Serialises the payload once: its size is checked on the very text the database receives. */
function toNewActivity(projectId: string, item: CreateActivityBody, field: string): NewActivity {
  const payloadJson = item.payload === undefined || item.payload === null ? null : JSON.stringify(item.payload);
  const bytes = payloadJson === null ? 0 : Buffer.byteLength(payloadJson, 'utf8');
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw new PayloadTooLargeException(`${field}: is ${bytes} bytes as JSON; at most ${MAX_PAYLOAD_BYTES} are allowed`);
  }
  return { projectId, agent: item.agent, action: item.action, payloadJson };
}
