import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsString, Length, Matches, MaxLength } from 'class-validator';

const NO_CONTROL_CHARS = /^[^\p{Cc}]*$/u;

/** Body of POST /users. */
export class RegisterUserDto {
  @ApiProperty({ example: 'Ada', maxLength: 100 })
  @IsString()
  @Length(1, 100)
  @Matches(/\S/, { message: 'firstName must not be blank' })
  @Matches(NO_CONTROL_CHARS)
  firstName: string;

  @ApiProperty({ example: 'Lovelace', maxLength: 200, description: 'May be empty for single-name users' })
  @IsString()
  @MaxLength(200)
  @Matches(NO_CONTROL_CHARS)
  lastName: string;

  @ApiProperty({ example: 'ada@example.com' })
  @IsEmail()
  @MaxLength(254)
  email: string;
}
