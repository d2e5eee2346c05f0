import type { AuthUser } from '../access/auth.types';
import type { UserDetailsDto, UserDto } from './auth.dto';
import type { UserRow } from './user.repository';

export function toUserDto(user: AuthUser): UserDto {
  return { id: user.id, email: user.email, role: user.role };
}

export function toUserDetailsDto(user: UserRow): UserDetailsDto {
  return { id: user.id, email: user.email, role: user.role, createdAt: user.createdAt };
}
