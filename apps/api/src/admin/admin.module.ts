import { Module } from '@nestjs/common';
import { AdminController } from './admin.controller';
import { ProjectionsController } from './projections.controller';

/** Operator endpoints over the event log and its projections. */
@Module({ controllers: [AdminController, ProjectionsController] })
export class AdminModule {}
