import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { ROLES, type Role } from '../access/auth.types';

export class LoginBody {
  @ApiProperty({ example: 'admin@example.com', maxLength: 254 })
  @IsEmail()
  @MaxLength(254)
  email: string;

  @ApiProperty({ minLength: 1, maxLength: 1024 })
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password: string;
}

export class CreateUserBody {
  @ApiProperty({ example: 'dev@example.com', maxLength: 254 })
  @IsEmail()
  @MaxLength(254)
  email: string;

  @ApiProperty({ minLength: 8, maxLength: 1024 })
  @IsString()
  @MinLength(8)
  @MaxLength(1024)
  password: string;

  @ApiPropertyOptional({ enum: ROLES, default: 'user' })
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;
}

export class UserDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  email: string;

  @ApiProperty({ enum: ROLES })
  role: Role;
}

export class UserDetailsDto extends UserDto {
  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

export class LoginResponse {
  @ApiProperty({ description: 'Bearer token; send as Authorization: Bearer <token>' })
  token: string;

  @ApiProperty({ type: UserDto })
  user: UserDto;
}

export class TokenResponse {
  @ApiProperty({ description: 'Shown once; only its hash is stored' })
  token: string;
}

export class UserPage {
  @ApiProperty({ type: [UserDetailsDto] })
  items: UserDetailsDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor: string | null;
}
