import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { LogMaintenance } from './log-maintenance';

/** Log maintenance for the admin endpoints. Needs EventStoreModule (global) and the users' email reservations. */
@Module({ imports: [UsersModule], providers: [LogMaintenance], exports: [LogMaintenance] })
export class LogMaintenanceModule {}
