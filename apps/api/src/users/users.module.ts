import { Module } from '@nestjs/common';
import { AwardPointsHandler } from './commands/award-points/award-points.handler';
import { EraseUserHandler } from './commands/erase-user/erase-user.handler';
import { RegisterUserHandler } from './commands/register-user/register-user.handler';
import { RenameUserHandler } from './commands/rename-user/rename-user.handler';
import { GetUserHandler } from './queries/get-user/get-user.handler';
import { EmailReservations } from './email-reservations';
import { ErasedUserCache } from './erased-user-cache';
import { UsersController } from './users.controller';

/** The users feature: commands, queries and HTTP. Needs EventStoreModule, CqrsModule and IdempotencyModule (global). */
@Module({
  controllers: [UsersController],
  providers: [
    RegisterUserHandler,
    RenameUserHandler,
    AwardPointsHandler,
    EraseUserHandler,
    GetUserHandler,
    EmailReservations,
    ErasedUserCache,
  ],
  exports: [EmailReservations],
})
export class UsersModule {}
