import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { EventStoreModule } from '@app/event-store';
import { AdminModule } from './admin/admin.module';
import { ProblemDetailsFilter } from './common/problem-details.filter';
import { AppConfig } from './config/app-config';
import { HealthModule } from './health/health.module';
import { userEvents } from './users/events';
import { UsersModule } from './users/users.module';

/**
 * The users service. Built from a validated `AppConfig` with a resolved
 * `DATABASE_URL` (main.ts starts the embedded PostgreSQL when none is set).
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig & { DATABASE_URL: string }): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CqrsModule.forRoot(),
        EventStoreModule.forRoot({ url: config.DATABASE_URL, schema: config.EVENT_STORE_SCHEMA, events: userEvents }),
        UsersModule,
        AdminModule,
        HealthModule,
      ],
      providers: [
        { provide: AppConfig, useValue: config },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      ],
      exports: [AppConfig],
      global: true,
    };
  }
}
