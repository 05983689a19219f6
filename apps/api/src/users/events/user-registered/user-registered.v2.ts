import { IsEmail, IsString, Length, MaxLength } from 'class-validator';
import type { Upcaster } from '@app/event-store';
import type { UserRegisteredV1 } from './user-registered.v1';

/** UserRegistered v2 (current): the name split into first and last name. */
export class UserRegistered {
  constructor(props?: UserRegistered) {
    Object.assign(this, props);
  }
  @IsString() @Length(1, 100) firstName: string;
  /** Empty for single-name users ("Cher"). */
  @IsString() @MaxLength(200) lastName: string;
  @IsEmail() email: string;
}

/**
 * v1 -> v2: trim, split on whitespace; the first token is the first name and
 * the rest, joined by single spaces, the last name ("Jean-Claude Van Damme" ->
 * "Jean-Claude" / "Van Damme"; "  Cher " -> "Cher" / "").
 */
export const upcastUserRegisteredV1: Upcaster<UserRegisteredV1, UserRegistered> = ({ fullName, email }) => {
  const [firstName = '', ...rest] = String(fullName).trim().split(/\s+/);
  return { firstName, lastName: rest.join(' '), email };
};
