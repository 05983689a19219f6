import { Global, Module } from '@nestjs/common';
import { Authenticator } from './authenticator';
import { AuthorizeGuard } from './authorize.decorator';

/** Bearer authentication (ADMIN_TOKEN, user JWTs) for `@Authorize` routes in every feature. */
@Global()
@Module({
  providers: [Authenticator, AuthorizeGuard],
  exports: [Authenticator, AuthorizeGuard],
})
export class AuthModule {}
