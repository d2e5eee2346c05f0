import { randomBytes } from 'node:crypto';
import { ConflictException, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { isUniqueViolation, withConstraints } from '../database/constraint-answers';
import { CursorCodec, Page, toPage } from '../http/cursor';
import { CreateUserBody, UserDetailsDto } from './auth.dto';
import { hashPassword } from './password';
import { toUserDetailsDto } from './user.mapper';
import { UserRepository, UserRow } from './user.repository';

const USERS_SCOPE = 'users';

@Injectable()
export class UserService implements OnApplicationBootstrap {
  private readonly logger = new Logger(UserService.name);

  constructor(
    private readonly users: UserRepository,
    private readonly cursors: CursorCodec,
    private readonly config: AppConfig,
  ) {}

  async create(body: CreateUserBody): Promise<UserDetailsDto> {
    const hash = await hashPassword(body.password);
    const row = await withConstraints(this.users.insert(body.email, hash, body.role ?? 'user'), {
      unique: () => new ConflictException('A user with this email already exists'),
    });
    return toUserDetailsDto(row);
  }

  async list(limit: number, cursor?: string): Promise<Page<UserDetailsDto>> {
    const after = cursor === undefined ? undefined : this.cursors.decode(cursor, USERS_SCOPE);
    const rows = await this.users.findPage(limit, after);
    return toPage(rows, limit, toUserDetailsDto, (r: UserRow) => ({ key: r.createdAt, id: r.id }), (p) =>
      this.cursors.encode(p, USERS_SCOPE),
    );
  }

  /**
   * First start: make sure someone can log in. With ADMIN_PASSWORD unset the password is generated
   * and printed once; it is never stored anywhere but as a hash.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (await this.users.existsWithRole('admin')) return;
    const generated = this.config.admin.password === undefined;
    const password = this.config.admin.password ?? randomBytes(12).toString('base64url');
    try {
      await this.users.insert(this.config.admin.email, await hashPassword(password), 'admin');
    } catch (err) {
      // Another instance starting at the same moment created it first.
      if (isUniqueViolation(err)) return;
      throw err;
    }
    if (generated) {
      this.logger.warn(
        `created the first admin: email ${this.config.admin.email} password ${password} ` +
          '(shown once; set ADMIN_EMAIL and ADMIN_PASSWORD to choose them)',
      );
    } else {
      this.logger.log(`created the first admin: ${this.config.admin.email}`);
    }
  }
}
