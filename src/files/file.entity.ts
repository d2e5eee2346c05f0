import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity('files')
export class FileEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

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
