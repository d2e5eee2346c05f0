import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { type Role, ROLES } from '../access/auth.types';
import { sqlList } from '../database/sql';

// TypeORM's @Index takes plain columns only, so these two are declared by name and left to the
// migrations: sign-in looks emails up case-insensitively (lower(email)), and the admin listing
// pages by (created_at DESC, id DESC). The entity-drift test pins their definitions.
@Index('users_email_lower_key', { synchronize: false })
@Index('users_created_at_id_idx', { synchronize: false })
@Check('users_role_check', `role IN (${sqlList(ROLES)})`)
@Entity('users')
export class UserEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'users_pkey' })
  id: string;

  @Column({ type: 'varchar', length: 254 })
  email: string;

  @Column({ name: 'password_hash', type: 'varchar', length: 255 })
  passwordHash: string;

  @Column({ type: 'varchar', length: 16, default: 'user' })
  role: Role;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: string;
}
