import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { ProjectionsService } from '@app/event-store';
import { AdminTokenGuard } from '../common/admin-token.guard';

/** Body of POST /admin/projections/:name/skip: the position the projection is stopped on. */
export class SkipEventDto {
  @IsInt() @Min(1) @Max(Number.MAX_SAFE_INTEGER) position: number;
}

/** Operator control of projections: status, rebuild, retry, skip. Bearer ADMIN_TOKEN. */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('admin/projections')
export class ProjectionsController {
  constructor(private readonly projections: ProjectionsService) {}

  @Get()
  async status() {
    return { projections: await this.projections.status() };
  }

  /** Starts a zero-downtime rebuild into shadow tables; follow progress in GET /admin/projections. */
  @Post(':name/rebuild')
  @HttpCode(202)
  async rebuild(@Param('name') name: string) {
    await this.projections.rebuild(name);
    return { name, accepted: true, status: '/admin/projections' };
  }

  /** Resumes a projection stopped on an error by applying the same event again. */
  @Post(':name/retry')
  @HttpCode(200)
  async retry(@Param('name') name: string) {
    await this.projections.retry(name);
    return { name, state: 'running' };
  }

  /** Skips exactly the event the projection is stopped on; the body must name its position. */
  @Post(':name/skip')
  @HttpCode(200)
  async skip(@Param('name') name: string, @Body() body: SkipEventDto) {
    await this.projections.skip(name, body.position);
    return { name, skipped: body.position, state: 'running' };
  }
}
