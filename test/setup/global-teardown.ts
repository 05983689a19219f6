import { startedServices } from './global-setup';

/** Stops the servers the global set-up started for this run. */
export default async function globalTeardown(): Promise<void> {
  await Promise.all(
    startedServices()
      .splice(0)
      .map((service) => service.stop!()),
  );
}
