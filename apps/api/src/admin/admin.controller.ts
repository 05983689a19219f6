import { Controller, Get, HttpCode, Param, Post, Query, Req, StreamableFile, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { EventStore, MAX_STREAM_ID_LENGTH } from '@app/event-store';
import { AdminTokenGuard } from '../common/admin-token.guard';
import { hasMediaType, requestBodyStream, streamBody, type HttpRequest } from '../common/http-message';
import { AcceptsStreamBody } from '../common/json-body.guard';
import { RequestError } from '../common/problem';
import { LogMaintenance } from '../log-maintenance/log-maintenance';
import type { LogImportReport, LogVerifyReport } from '../log-maintenance/log-maintenance.reports';
import { StreamEventsQueryDto } from './stream-events.query.dto';

/** Operator endpoints over the raw log: inspect, export, import, verify. Bearer ADMIN_TOKEN. */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('admin')
export class AdminController {
  constructor(
    private readonly store: EventStore,
    private readonly maintenance: LogMaintenance,
  ) {}

  /** A stream's events exactly as stored (type and schema version as written, no upcasting). */
  @Get('streams/:streamId/events')
  async streamEvents(@Param('streamId') streamId: string, @Query() query: StreamEventsQueryDto) {
    if (streamId.length > MAX_STREAM_ID_LENGTH) {
      throw new RequestError('REQUEST.INVALID_STREAM_ID', 400, `streamId is longer than ${MAX_STREAM_ID_LENGTH}`);
    }
    const limit = query.limit ?? 1000;
    const events = [];
    for await (const e of this.store.readStreamStored(streamId, { fromVersion: query.fromVersion ?? 1, batchSize: limit })) {
      events.push(e);
      if (events.length >= limit) break;
    }
    return { streamId, events };
  }

  /** Streams the whole log as JSON lines (the events:export format), oldest first. */
  @Get('events/export')
  export(): Promise<StreamableFile> {
    return streamBody(this.maintenance.exportLines(), 'application/x-ndjson');
  }

  /**
   * Imports an export stream (body `application/x-ndjson`) in bulk, keeping types and
   * versions; idempotent by event id. The answer lists imported registrations whose email
   * another user holds (`LogMaintenance.import`).
   */
  @Post('events/import')
  @HttpCode(200)
  @AcceptsStreamBody()
  async import(@Req() req: HttpRequest): Promise<LogImportReport> {
    if (!hasMediaType(req, 'application/x-ndjson')) {
      throw new RequestError('REQUEST.UNSUPPORTED_MEDIA_TYPE', 415, 'Send the export format as application/x-ndjson');
    }
    // Bytes, not strings: the import streams them into COPY as they are.
    const length = Number(req.headers['content-length']);
    return this.maintenance.import(requestBodyStream(req), { totalBytes: Number.isFinite(length) ? length : undefined });
  }

  /** Reads every stored event through the upcasters and validators; lists each that fails, and registrations with a taken email. */
  @Post('events/verify')
  @HttpCode(200)
  async verify(): Promise<LogVerifyReport> {
    return (await this.maintenance.verify()).report;
  }
}
