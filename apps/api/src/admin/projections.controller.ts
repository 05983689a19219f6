import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { ProjectionsService, type ProjectionPhase } from '@app/event-store';
import { AdminTokenGuard } from '../common/admin-token.guard';

const PHASES: ProjectionPhase[] = ['live', 'rebuild'];

/** Body of POST /admin/projections/:name/retry: optionally, which stopped phase to resume. */
export class RetryPhaseDto {
  @ApiPropertyOptional({ enum: PHASES, description: 'Resume only this phase; default: every stopped phase' })
  @IsOptional()
  @IsIn(PHASES)
  phase?: ProjectionPhase;
}

/** Body of POST /admin/projections/:name/skip: the position a phase is stopped on (and optionally which phase). */
export class SkipEventDto extends RetryPhaseDto {
  @IsInt() @Min(1) @Max(Number.MAX_SAFE_INTEGER) position: number;
}

/** Operator control of projections: status, rebuild (start, abort), retry, skip. Bearer ADMIN_TOKEN. */
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

  /** Aborts the rebuild (running or stopped on an error) and drops its shadow tables; the live model is untouched. */
  @Delete(':name/rebuild')
  @HttpCode(200)
  async abortRebuild(@Param('name') name: string) {
    return { name, aborted: await this.projections.abortRebuild(name) };
  }

  /** Resumes a phase stopped on an error by applying the same event again. */
  @Post(':name/retry')
  @HttpCode(200)
  async retry(@Param('name') name: string, @Body() body: RetryPhaseDto) {
    return { name, phases: await this.projections.retry(name, body.phase), state: 'running' };
  }

  /** Skips exactly the event a phase is stopped on; the body must name its position. */
  @Post(':name/skip')
  @HttpCode(200)
  async skip(@Param('name') name: string, @Body() body: SkipEventDto) {
    const phases = await this.projections.skip(name, body.position, body.phase);
    return { name, skipped: body.position, phases, state: 'running' };
  }
}
