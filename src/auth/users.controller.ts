import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../http/api-errors.decorator';
import { UuidParam } from '../http/uuid-param';
import { PageQuery } from '../http/pagination.dto';
import { AdminOnly } from './auth.decorators';
import { CreateUserBody, TokenResponse, UserDetailsDto, UserPage } from './auth.dto';
import { AuthService } from './auth.service';
import { UserService } from './user.service';

@ApiTags('users (admin)')
@ApiBearerAuth()
@AdminOnly()
@Controller('api/users')
export class UsersController {
  constructor(
    private readonly users: UserService,
    private readonly auth: AuthService,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a user (admin)' })
  @ApiCreatedResponse({ type: UserDetailsDto })
  @ApiErrors(400, 401, 403, 409)
  create(@Body() body: CreateUserBody): Promise<UserDetailsDto> {
    return this.users.create(body);
  }

  @Get()
  @ApiOperation({ summary: 'List users, newest first (admin)' })
  @ApiOkResponse({ type: UserPage })
  @ApiErrors(400, 401, 403)
  list(@Query() query: PageQuery): Promise<UserPage> {
    return this.users.list(query.limit, query.cursor);
  }

  @Post(':id/tokens')
  @ApiOperation({ summary: 'Issue a new token for a user, e.g. a service account (admin); shown once' })
  @ApiCreatedResponse({ type: TokenResponse })
  @ApiErrors(400, 401, 403, 404)
  issueToken(@UuidParam('id') id: string): Promise<TokenResponse> {
    return this.auth.issueTokenFor(id);
  }
}
