import { ConfigError } from './config-error';

/** The settings this check reads (not the whole AppConfig, which calls it: no import cycle). */
export interface AuthSettings {
  AUTH_JWT_SECRET?: string;
  AUTH_JWKS_URL?: string;
  AUTH_JWT_ISSUER?: string;
  AUTH_JWT_AUDIENCE?: string;
}

/** One source of user-token keys, and issuer/audience checks only with one of them. */
export function checkAuthCombination(config: AuthSettings): void {
  if (config.AUTH_JWT_SECRET && config.AUTH_JWKS_URL) {
    throw new ConfigError('Invalid configuration:\n  AUTH_JWT_SECRET and AUTH_JWKS_URL: set one of them, not both');
  }
  if (!config.AUTH_JWT_SECRET && !config.AUTH_JWKS_URL) {
    for (const name of ['AUTH_JWT_ISSUER', 'AUTH_JWT_AUDIENCE'] as const) {
      if (config[name]) throw new ConfigError(`Invalid configuration:\n  ${name}: needs AUTH_JWT_SECRET or AUTH_JWKS_URL`);
    }
  }
}
