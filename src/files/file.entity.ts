import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { ProjectEntity } from '../projects/project.entity';

// Unique per project in byte order of the path (COLLATE "C"), which the listing's prefix filter,
// keyset and order rely on; TypeORM's @Index cannot carry a collation, so it is declared by name and
// left to the migrations (the entity-drift test pins it).
@Index('files_project_id_path_key', { synchronize: false })
@Check('files_size_bytes_check', 'size_bytes >= 0')
@Entity('files')
export class FileEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'files_pkey' })
  id: string;

  @Index('files_project_id_idx')
  @ForeignKey(() => ProjectEntity, { name: 'files_project_id_fkey', onDelete: 'CASCADE' })
  @Column({ name: 'project_id', type: 'uuid' })
  projectId: string;

  @Column({ type: 'varchar', length: 1024 })
  path: string;

  @Column({ type: 'text' })
  content: string;

  /** UTF-8 length of `content`, kept so listings never read the content itself. */
  @Column({ name: 'size_bytes', type: 'integer' })
  sizeBytes: number;

  @Column({ type: 'varchar', length: 64, nullable: true })
  language: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: string;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: string;
}

/** A file as the repository returns it: timestamps as RFC 3339 text with microseconds. */
export type FileRow = Omit<FileEntity, 'projectId'>;

/** A file in a listing: everything but the content. */
export type FileSummaryRow = Omit<FileRow, 'content'>;
