import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { BearerAuthenticator } from './bearer-authenticator';
import { isSelfOrAdmin, type Principal } from './principal';

/** The app's {@link BearerAuthenticator}, configured from ADMIN_TOKEN and AUTH_*; says at start-up whether user auth is on. */
@Injectable()
export class Authenticator extends BearerAuthenticator implements OnApplicationBootstrap {
  constructor(@Inject(AppConfig) private readonly config: AppConfig) {
    super({
      adminToken: config.ADMIN_TOKEN,
      jwtSecret: config.AUTH_JWT_SECRET,
      jwksUrl: config.AUTH_JWKS_URL,
      issuer: config.AUTH_JWT_ISSUER,
      audience: config.AUTH_JWT_AUDIENCE,
      jwksTimeoutMs: config.AUTH_JWKS_TIMEOUT_MS,
    });
  }

  /** The ADMIN_TOKEN, for routes that fall back to the admin API's rules when user auth is off. */
  get adminToken(): string | undefined {
    return this.config.ADMIN_TOKEN;
  }

  /** Whether `principal` may see the personal data (the email) of `userId`: that user or an admin, or anyone while user auth is off. */
  maySeePersonalData(principal: Principal, userId: string): boolean {
    return !this.userAuth || isSelfOrAdmin(principal, userId);
  }

  onApplicationBootstrap(): void {
    const logger = new Logger('Auth');
    if (!this.userAuth) {
      logger.warn(
        'User auth is off (neither AUTH_JWT_SECRET nor AUTH_JWKS_URL is set): GET /users/:id shows every email to anyone, ' +
          'and anyone may rename users and award points. Set one of them to require user tokens.',
      );
      return;
    }
    const source = this.config.AUTH_JWT_SECRET ? 'HS256 with AUTH_JWT_SECRET' : `keys from ${this.config.AUTH_JWKS_URL}`;
    logger.log(`User auth is on: bearer JWTs verified (${source}), sub = user id`);
    if (this.config.AUTH_JWKS_URL?.startsWith('http://')) {
      logger.warn('AUTH_JWKS_URL is plain http: whoever can alter that traffic can sign user tokens. Use https outside tests.');
    }
  }
}
