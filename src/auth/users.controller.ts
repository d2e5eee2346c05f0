import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../access/auth.decorators';
import { ApiErrors } from '../http/api-errors.decorator';
import { PageQuery } from '../http/pagination.dto';
import { UuidParam } from '../http/uuid-param';
import { CreateUserBody, TokenResponse, UserDetailsDto, UserPage } from './auth.dto';
import { AuthService } from './auth.service';
import { UserService } from './user.service';

@ApiTags('users')
@AdminOnly()
@Controller('api/users')
export class UsersController {
  constructor(
    private readonly users: UserService,
    private readonly auth: AuthService,
  ) {}

  @Post()
  @ApiOperation({ operationId: 'createUser', summary: 'Create a user (admin)' })
  @ApiCreatedResponse({ type: UserDetailsDto })
  @ApiErrors(409)
  create(@Body() body: CreateUserBody): Promise<UserDetailsDto> {
    return this.users.create(body);
  }

  @Get()
  @ApiOperation({ operationId: 'listUsers', summary: 'List users, newest first (admin)' })
  @ApiOkResponse({ type: UserPage })
  @ApiErrors()
  list(@Query() query: PageQuery): Promise<UserPage> {
    return this.users.list(query.limit, query.cursor);
  }

  @Post(':id/tokens')
  @ApiOperation({ operationId: 'issueUserToken', summary: 'Issue a new token for a user, e.g. a service account (admin); shown once' })
  @ApiCreatedResponse({ type: TokenResponse })
  @ApiErrors(404)
  issueToken(@UuidParam('id') id: string): Promise<TokenResponse> {
    return this.auth.issueTokenFor(id);
  }
}
