import { ApiProperty } from '@nestjs/swagger';

/** A user as the API shows it. */
export class UserView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() firstName: string;
  @ApiProperty() lastName: string;
  @ApiProperty() email: string;
  @ApiProperty() points: number;
  @ApiProperty({ description: 'Stream version; send it back as If-Match' }) version: number;
}
