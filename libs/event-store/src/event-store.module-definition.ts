import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { EventStoreOptions } from './event-store.options';

export const {
  ConfigurableModuleClass: EventStoreConfigurableModule,
  MODULE_OPTIONS_TOKEN: EVENT_STORE_OPTIONS,
  OPTIONS_TYPE: EVENT_STORE_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: EVENT_STORE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<EventStoreOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
