import { Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';
import { ProjectEntity } from '../projects/project.entity';

@Index('agent_activities_project_id_created_at_id_idx', ['projectId', 'createdAt', 'id'])
@Entity('agent_activities')
export class ActivityEntity {
  // bigint: node-postgres hands it over as a string, which keeps ids past 2^53 exact.
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS', primaryKeyConstraintName: 'agent_activities_pkey' })
  id: string;

  @Index('agent_activities_project_id_idx')
  @ForeignKey(() => ProjectEntity, { name: 'agent_activities_project_id_fkey', onDelete: 'CASCADE' })
  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @Column({ type: 'varchar', length: 100 })
  agent: string;

  @Column({ type: 'varchar', length: 100 })
  action: string;

  @Column({ type: 'jsonb', nullable: true })
  payload: unknown;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: string;
}

/** An activity as the repository returns it: id as text, createdAt as RFC 3339 text with microseconds. */
export type ActivityRow = ActivityEntity;

/** An activity on its way to the database; the payload is already JSON text (null: SQL NULL). */
export interface NewActivity {
  readonly projectId: string;
  readonly agent: string;
  readonly action: string;
  readonly payloadJson: string | null;
}
