import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { UserEntity } from '../auth/user.entity';
import { sqlList } from '../database/sql';

export const PROJECT_STATUSES = ['active', 'archived', 'completed', 'draft'] as const;
export type ProjectStatus = (typeof PROJECT_STATUSES)[number];

// Keyset pages read (created_at DESC, id DESC) within an owner; TypeORM's @Index cannot say DESC,
// so these two are declared by name and left to the migrations (the entity-drift test pins them).
@Index('projects_user_id_created_at_idx', { synchronize: false })
@Index('projects_user_id_status_idx', { synchronize: false })
@Check('projects_status_check', `status IN (${sqlList(PROJECT_STATUSES)})`)
@Entity('projects')
export class ProjectEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'projects_pkey' })
  id: string;

  @Index('projects_user_id_idx')
  @ForeignKey(() => UserEntity, { name: 'projects_user_id_fkey', onDelete: 'CASCADE' })
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Index('projects_status_idx')
  @Column({ type: 'varchar', length: 16, default: 'active' })
  status: ProjectStatus;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: string;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: string;
}

/** A project as the repository returns it: timestamps as RFC 3339 text with microseconds. */
export type ProjectRow = Omit<ProjectEntity, 'userId'>;
