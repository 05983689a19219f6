import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { AdminTokenGuard } from '../common/admin-token.guard';
import { IntegrationRelay } from './integration-relay';

/** Body of POST /admin/relay/replay: the first global position to publish again. */
export class ReplayFromDto {
  @ApiProperty({ example: 1, minimum: 1, description: 'First global position to publish again; the stream keeps what it holds' })
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  position: number;
}

/** Operator control of the outbox relay to NATS: state, pause, resume, replay. Bearer ADMIN_TOKEN. */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('admin/relay')
export class RelayController {
  constructor(private readonly integration: IntegrationRelay) {}

  /** The relay's state, checkpoint, lag and errors; `{ relay: null }` while it is off. */
  @Get()
  async status() {
    const relay = this.integration.relay;
    if (!relay) return { relay: null, reason: 'NATS_URL is not set' };
    return { relay: { ...(await relay.status()), natsConnected: this.integration.link?.up ?? false } };
  }

  /** Stops publishing (on every instance) after the batch in flight. */
  @Post('pause')
  @HttpCode(200)
  async pause() {
    await this.integration.running.pause();
    return { state: 'paused' };
  }

  /** Resumes a paused relay, or one stopped on an unreadable event (read again). */
  @Post('resume')
  @HttpCode(200)
  async resume() {
    await this.integration.running.resume();
    return { state: 'running' };
  }

  /** Publishes again from a position; what the stream still holds is not sent twice. */
  @Post('replay')
  @HttpCode(200)
  async replay(@Body() body: ReplayFromDto) {
    return await this.integration.running.replay(body.position);
  }
}
