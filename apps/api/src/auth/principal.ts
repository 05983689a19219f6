/**
 * Who sent a request: nobody in particular, the operator (the `ADMIN_TOKEN`), or a user
 * proven by a verified JWT whose `sub` is the user's id.
 */
export type Principal = { kind: 'anonymous' } | { kind: 'admin' } | { kind: 'user'; userId: string };

/** The principal of a request without credentials. */
export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous' });

/** The admin principal. */
export const ADMIN: Principal = Object.freeze({ kind: 'admin' });

/** Whether the principal may see and change the personal data of `userId`: that user or an admin. */
export function isSelfOrAdmin(principal: Principal, userId: string): boolean {
  return principal.kind === 'admin' || (principal.kind === 'user' && principal.userId === userId);
}
