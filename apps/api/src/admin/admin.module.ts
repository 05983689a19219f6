import { Module } from '@nestjs/common';
import { AdminController } from './admin.controller';

/** Operator endpoints over the event log. */
@Module({ controllers: [AdminController] })
export class AdminModule {}
