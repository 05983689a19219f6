import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { AppConfig } from './app-config';

/** File name of the generated master key, beside the embedded PostgreSQL's data under the data directory. */
const GENERATED_KEY_FILE = 'pii-master.key';

/**
 * The master key that wraps the personal-data keys: PII_MASTER_KEY when set (always, with
 * DATABASE_URL: `loadConfig` requires it). For the embedded default it is read from, or on
 * first use generated into, the data directory (`.data/pii-master.key`, mode 0600), with a
 * warning: whoever holds that file and a copy of the database can read personal data.
 */
export function resolvePiiMasterKey(
  config: Pick<AppConfig, 'PII_MASTER_KEY' | 'EMBEDDED_PG_DIR'>,
  logger = new Logger('PersonalData'),
): string {
  if (config.PII_MASTER_KEY) return config.PII_MASTER_KEY;
  const file = resolve(dirname(resolve(config.EMBEDDED_PG_DIR)), GENERATED_KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    logger.warn(`PII_MASTER_KEY is not set: generated one into ${file}. Set PII_MASTER_KEY for any real deployment.`);
  } else {
    logger.warn(`PII_MASTER_KEY is not set: using the key generated in ${file}.`);
  }
  return readFileSync(file, 'utf8').trim();
}
