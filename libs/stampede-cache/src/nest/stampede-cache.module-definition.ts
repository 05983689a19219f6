import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { StampedeCacheModuleOptions } from '../core/options';

/**
 * `forRoot` / `forRootAsync` come from Nest's ConfigurableModuleBuilder; the `isGlobal`
 * extra makes the module global so feature modules need not import it.
 */
export const {
  ConfigurableModuleClass: ConfigurableStampedeCacheModule,
  MODULE_OPTIONS_TOKEN: STAMPEDE_CACHE_OPTIONS,
  OPTIONS_TYPE: STAMPEDE_CACHE_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: STAMPEDE_CACHE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<StampedeCacheModuleOptions>({ moduleName: 'StampedeCache' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
