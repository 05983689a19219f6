/** A component readiness reports as down (or degraded), from when, and (admins only) why. */
export interface DownComponent {
  /** `database`, `migrations`, `redis` or `projection:<name>`. */
  component: string;
  /** ISO time it was first seen down (by this instance; a projection's is when it stopped, the same on every instance). */
  since: string | null;
  /** The error text: only in the admin view. */
  error?: string;
}

/**
 * Remembers when each component was first seen down, so a probe can say
 * "down since" instead of only "down"; forgets it once the component is back.
 * One per controller instance: two apps in one process never share it.
 */
export class DownSince {
  private readonly since = new Map<string, string>();

  constructor(private readonly now: () => Date) {}

  /** Records this observation; returns the component as down (with `error`) or nothing when it is up. */
  observe(component: string, isDown: boolean, error?: string): DownComponent[] {
    if (!isDown) {
      this.since.delete(component);
      return [];
    }
    let since = this.since.get(component);
    if (since === undefined) {
      since = this.now().toISOString();
      this.since.set(component, since);
    }
    return [{ component, since, ...(error === undefined ? {} : { error }) }];
  }
}
