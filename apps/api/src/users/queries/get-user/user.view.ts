import { ApiProperty } from '@nestjs/swagger';

/**
 * Which view of a user a reader gets: `private` (with the email) for that user, an admin,
 * or everyone while user auth is off; `public` (no personal contact data) for everyone else.
 * Each is cached under a key of its own.
 */
export const USER_VIEW_SCOPES = ['private', 'public'] as const;
export type UserViewScope = (typeof USER_VIEW_SCOPES)[number];

/** A user as anyone may see them: name and points, no email. */
export class PublicUserView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() firstName: string;
  @ApiProperty() lastName: string;
  @ApiProperty() points: number;
  @ApiProperty({ description: 'Stream version; send it back as If-Match' }) version: number;
}

/** A user as they themselves, or an admin, see them. */
export class UserView extends PublicUserView {
  @ApiProperty({
    required: false,
    description: "Only in the private view: to the user's own token or the admin token (everyone while user auth is off)",
  })
  email: string;
}
