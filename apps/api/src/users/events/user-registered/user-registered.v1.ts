import { IsEmail, IsString } from 'class-validator';

/** UserRegistered v1 (legacy): one free-text name. Years of history hold this shape. */
export class UserRegisteredV1 {
  @IsString() fullName: string;
  @IsEmail() email: string;
}
