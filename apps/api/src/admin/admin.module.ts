import { Module } from '@nestjs/common';
import { AdminController } from './admin.controller';
import { ProjectionsController } from './projections.controller';
import { UsersModule } from '../users/users.module';

/** Operator endpoints over the event log and its projections. */
@Module({ imports: [UsersModule], controllers: [AdminController, ProjectionsController] })
export class AdminModule {}
