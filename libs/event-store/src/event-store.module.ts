import { DynamicModule, Inject, Injectable, Logger, Module, OnApplicationBootstrap, OnApplicationShutdown, Provider } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { EventBus } from '@nestjs/cqrs';
import { AggregateRepository } from './aggregate/aggregate-repository';
import { createEventStore, EventStoreHandle } from './create-event-store';
import {
  EVENT_STORE_ASYNC_OPTIONS_TYPE,
  EVENT_STORE_OPTIONS,
  EVENT_STORE_OPTIONS_TYPE,
  EventStoreConfigurableModule,
} from './event-store.module-definition';
import type { EventStoreOptions } from './event-store.options';
import { EventStore } from './postgres/postgres-event-store';
import { EventRegistry } from './registry/event-registry';
import { ProjectionsService } from './projections/projections.service';
import { SnapshotStore } from './snapshots/snapshot-store';

/** Injection token of the `EventStoreHandle` (store, registry, db, schema). */
export const EVENT_STORE_HANDLE = Symbol('EVENT_STORE_HANDLE');

@Injectable()
class EventStoreLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(EVENT_STORE_HANDLE) private readonly handle: EventStoreHandle,
    @Inject(EVENT_STORE_OPTIONS) private readonly options: EventStoreOptions,
  ) {}
  async onApplicationBootstrap(): Promise<void> {
    if ((this.options.runProjections ?? true) && this.handle.projections.names().length) await this.handle.projections.start();
  }
  async onApplicationShutdown(): Promise<void> {
    await this.handle.close();
  }
}

const providers: Provider[] = [
  {
    provide: EVENT_STORE_HANDLE,
    inject: [EVENT_STORE_OPTIONS],
    useFactory: async (options: EventStoreOptions) => {
      const handle = await createEventStore(options);
      const logger = new Logger('EventStore');
      logger.log(`Event log ready in schema "${handle.schema}" (${handle.registry.types().length} event types)`);
      // A snapshot fault costs a full replay or a skipped snapshot, never a failed command: worth a warning, not more.
      handle.snapshots.onFault((f) =>
        logger.warn(
          `Snapshot ${f.operation} of "${f.streamId}" (${f.name}) failed: ${f.error instanceof Error ? f.error.message : String(f.error)}`,
        ),
      );
      return handle;
    },
  },
  { provide: EventStore, inject: [EVENT_STORE_HANDLE], useFactory: (h: EventStoreHandle) => h.store },
  { provide: EventRegistry, inject: [EVENT_STORE_HANDLE], useFactory: (h: EventStoreHandle) => h.registry },
  { provide: ProjectionsService, inject: [EVENT_STORE_HANDLE], useFactory: (h: EventStoreHandle) => h.projections },
  { provide: SnapshotStore, inject: [EVENT_STORE_HANDLE], useFactory: (h: EventStoreHandle) => h.snapshots },
  {
    provide: AggregateRepository,
    inject: [EventStore, ModuleRef, SnapshotStore],
    // The cqrs EventBus is optional: without CqrsModule, saves simply publish nothing.
    useFactory: (store: EventStore, moduleRef: ModuleRef, snapshots: SnapshotStore) => {
      let bus: EventBus | undefined;
      try {
        bus = moduleRef.get(EventBus, { strict: false });
      } catch {
        bus = undefined;
      }
      return new AggregateRepository(store, bus, snapshots);
    },
  },
  EventStoreLifecycle,
];
const exported = [EVENT_STORE_HANDLE, EventStore, EventRegistry, AggregateRepository, ProjectionsService, SnapshotStore];

/**
 * PostgreSQL event store for Nest. `forRoot({ url, schema, events })` or
 * `forRootAsync({ useFactory, inject })`; provides `EventStore`,
 * `EventRegistry`, `AggregateRepository`, `ProjectionsService`, `SnapshotStore` and the
 * `EVENT_STORE_HANDLE`. Migrations run at start-up, projections start on
 * bootstrap; runners stop and the pool closes on application shutdown.
 */
@Module({})
export class EventStoreModule extends EventStoreConfigurableModule {
  static forRoot(options: typeof EVENT_STORE_OPTIONS_TYPE): DynamicModule {
    const base = super.forRoot(options);
    return { ...base, providers: [...(base.providers ?? []), ...providers], exports: exported };
  }

  static forRootAsync(options: typeof EVENT_STORE_ASYNC_OPTIONS_TYPE): DynamicModule {
    const base = super.forRootAsync(options);
    return { ...base, providers: [...(base.providers ?? []), ...providers], exports: exported };
  }
}
