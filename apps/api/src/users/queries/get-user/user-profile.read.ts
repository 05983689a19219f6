import type { PublicUserView, UserView } from './user.view';

/**
 * What GetUserHandler loads and the query answers (inside a `CachedRead`): a profile, or its
 * absence (a negative result: cached briefly, dropped by the projection's tag on
 * registration), and the checkpoint it reflects. Its own file, so the query and the handler
 * both import it and neither imports the other.
 */
export interface UserProfileRead {
  user: UserView | PublicUserView | null;
  /** The user was erased: the read model keeps only that fact (410 Gone). */
  erased?: boolean;
  position: number;
}
