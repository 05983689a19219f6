import { PickType } from '@nestjs/swagger';
import { RegisterUserDto } from '../register-user/register-user.dto';

/** Body of PUT /users/:id/name. */
export class RenameUserDto extends PickType(RegisterUserDto, ['firstName', 'lastName'] as const) {}
