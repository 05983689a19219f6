/** A configuration value failed validation; the message names each variable. */
export class ConfigError extends Error {
  readonly code = 'CONFIG.INVALID';
}
