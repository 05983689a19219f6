import { Body, Controller, Delete, Get, Headers, HttpCode, Param, ParseUUIDPipe, Post, Put, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiHeader, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { EventMetadata } from '@app/event-store';
import type { HttpReply } from '../common/http-message';
import { parseIfMatch } from '../common/if-match';
import { RequestError } from '../common/problem';
import { RequestMetadata } from '../common/request-metadata';
import { AwardPointsCommand } from './commands/award-points/award-points.command';
import { AwardPointsDto } from './commands/award-points/award-points.dto';
import { RegisterUserCommand } from './commands/register-user/register-user.command';
import { RegisterUserDto } from './commands/register-user/register-user.dto';
import { EraseUserCommand } from './commands/erase-user/erase-user.command';
import { RenameUserCommand } from './commands/rename-user/rename-user.command';
import { RenameUserDto } from './commands/rename-user/rename-user.dto';
import { WriteResult } from './commands/write-result';
import { changedResponse, registeredResponse } from './commands/write-responses';
import { Idempotent } from '../idempotency/idempotent.decorator';
import { GetUserQuery } from './queries/get-user/get-user.query';
import { PublicUserView, UserView } from './queries/get-user/user.view';
import { Authenticator } from '../auth/authenticator';
import { Authorize, CurrentPrincipal } from '../auth/authorize.decorator';
import type { Principal } from '../auth/principal';
import { UserErasedError, UserNotFoundError } from './users.errors';
import { MinPosition } from '../read-side/min-position.decorator';
import { setReadHeaders } from '../read-side/read-headers';

const uuid = new ParseUUIDPipe({
  exceptionFactory: () => new RequestError('REQUEST.INVALID_ID', 400, 'User id must be a UUID'),
});

const renamedResponse = changedResponse(200);
const awardedResponse = changedResponse(201);

/**
 * Users: validates, builds a command or query, maps the result. A command route returns its
 * command's result; its `@Idempotent` response (status, `Location`, `ETag`, body) is applied
 * by the idempotency interceptor, for a first run and a replay alike.
 */
@ApiTags('users')
@Controller('users')
export class UsersController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly auth: Authenticator,
  ) {}

  @Post()
  @Idempotent(registeredResponse)
  @ApiResponse({ status: 201, type: WriteResult, description: 'Headers Location and ETag' })
  @ApiResponse({ status: 409, description: 'USERS.EMAIL_TAKEN: another user registered this email (case-insensitive)' })
  async register(@Body() body: RegisterUserDto, @RequestMetadata() metadata: EventMetadata): Promise<WriteResult> {
    return this.commands.execute(new RegisterUserCommand(body.firstName, body.lastName, body.email, metadata));
  }

  @Get(':id')
  @Authorize('anyone')
  @ApiHeader({ name: 'X-Min-Position', required: false, description: "Answer only from data at least this fresh (a write's position)" })
  @ApiResponse({
    status: 200,
    type: UserView,
    description:
      'X-Cache: HIT | STALE | MISS | BYPASS. With user auth on, the email only for the user or an admin ' +
      '(Cache-Control: private, no-store); everyone else gets the public view, without it',
  })
  async get(
    @Param('id', uuid) id: string,
    @MinPosition() minPosition: number | undefined,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) res: HttpReply,
  ): Promise<UserView | PublicUserView> {
    const scope = this.auth.maySeePersonalData(principal, id) ? 'private' : 'public';
    const read = await this.queries.execute(new GetUserQuery(id, minPosition, scope));
    setReadHeaders(res, read, read.value.user?.version);
    if (read.value.erased) throw new UserErasedError(id);
    if (this.auth.userAuth) {
      // The answer depends on the token: shared caches must not hand one caller's answer to another.
      // (`header` exists on both Express' response and Fastify's reply.)
      res.header('Vary', 'Authorization');
      if (scope === 'private') res.header('Cache-Control', 'private, no-store');
    }
    if (!read.value.user) throw new UserNotFoundError(id);
    return read.value.user;
  }

  @Delete(':id')
  @HttpCode(200)
  @Authorize('self-or-admin', { whenUserAuthOff: 'admin' })
  @ApiResponse({ status: 200, type: WriteResult, description: 'Erased (crypto-shredded); GET with X-Min-Position = position answers 410' })
  @ApiResponse({ status: 410, description: 'USERS.ERASED: already erased' })
  async erase(@Param('id', uuid) id: string, @RequestMetadata() metadata: EventMetadata): Promise<WriteResult> {
    return this.commands.execute(new EraseUserCommand(id, metadata));
  }

  @Put(':id/name')
  @HttpCode(200)
  @Authorize('self-or-admin')
  @Idempotent(renamedResponse)
  @ApiHeader({ name: 'If-Match', required: false, description: 'Stream version the client last saw; 409 if it changed' })
  @ApiResponse({ status: 200, type: WriteResult, description: 'Header ETag' })
  async rename(
    @Param('id', uuid) id: string,
    @Body() body: RenameUserDto,
    @Headers('if-match') ifMatch: string | undefined,
    @RequestMetadata() metadata: EventMetadata,
  ): Promise<WriteResult> {
    return this.commands.execute(new RenameUserCommand(id, body.firstName, body.lastName, parseIfMatch(ifMatch), metadata));
  }

  @Post(':id/points')
  @Authorize('admin')
  @Idempotent(awardedResponse)
  @ApiResponse({ status: 201, type: WriteResult, description: 'Header ETag' })
  async awardPoints(
    @Param('id', uuid) id: string,
    @Body() body: AwardPointsDto,
    @RequestMetadata() metadata: EventMetadata,
  ): Promise<WriteResult> {
    return this.commands.execute(new AwardPointsCommand(id, body.points, body.reason, metadata));
  }
}
