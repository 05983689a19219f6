import { Module } from '@nestjs/common';
import { AwardPointsHandler } from './commands/award-points/award-points.handler';
import { RegisterUserHandler } from './commands/register-user/register-user.handler';
import { RenameUserHandler } from './commands/rename-user/rename-user.handler';
import { GetUserHandler } from './queries/get-user/get-user.handler';
import { UsersController } from './users.controller';

/** The users feature: commands, queries and HTTP. Needs EventStoreModule and CqrsModule (global). */
@Module({
  controllers: [UsersController],
  providers: [RegisterUserHandler, RenameUserHandler, AwardPointsHandler, GetUserHandler],
})
export class UsersModule {}
