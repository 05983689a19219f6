import { Module } from '@nestjs/common';
import { AdminController } from './admin.controller';
import { ProjectionsController } from './projections.controller';
import { LogMaintenanceModule } from '../log-maintenance/log-maintenance.module';

/** Operator endpoints over the event log and its projections. */
@Module({ imports: [LogMaintenanceModule], controllers: [AdminController, ProjectionsController] })
export class AdminModule {}
