/** Base of the users feature's domain errors: a stable `code`, no HTTP. */
export abstract class UsersError extends Error {
  abstract readonly code: string;
}

/** Points must be a positive integer up to the per-award maximum. */
export class InvalidPointsError extends UsersError {
  readonly code = 'USERS.INVALID_POINTS';
  constructor(readonly points: number) {
    super(`Points must be a positive integer up to the per-award maximum, got ${points}`);
  }
}

/** No user with this id. */
export class UserNotFoundError extends UsersError {
  readonly code = 'USERS.NOT_FOUND';
  constructor(readonly userId: string) {
    super(`User ${userId} does not exist`);
  }
}

/** Another user already registered this email (compared case-insensitively). */
export class EmailTakenError extends UsersError {
  readonly code = 'USERS.EMAIL_TAKEN';
  constructor() {
    super('This email is already registered');
  }
}

/** The user was erased (a data-protection erasure): gone for good, not merely absent. */
export class UserErasedError extends UsersError {
  readonly code = 'USERS.ERASED';
  constructor(readonly userId: string) {
    super(`User ${userId} has been erased`);
  }
}
