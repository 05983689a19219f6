import { Controller, Get, HttpCode, Param, Post, Query, Req, StreamableFile, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { EventStore, MAX_STREAM_ID_LENGTH } from '@app/event-store';
import { exportLines, importLines, sealPlaintextLines, verifyStore } from '@app/event-store/tools';
import { AdminTokenGuard } from '../common/admin-token.guard';
import { hasMediaType, requestBodyStream, streamBody, type HttpRequest } from '../common/http-message';
import { AcceptsStreamBody } from '../common/json-body.guard';
import { RequestError } from '../common/problem';
import { auditEmails } from '../users/email-audit';
import { EmailReservations } from '../users/email-reservations';
import { ImportedEmails } from '../users/imported-emails';
import { StreamEventsQueryDto } from './stream-events.query.dto';

/** Operator endpoints over the raw log: inspect, export, import, verify. Bearer ADMIN_TOKEN. */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('admin')
export class AdminController {
  constructor(
    private readonly store: EventStore,
    private readonly emails: EmailReservations,
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
    return streamBody(exportLines(this.store), 'application/x-ndjson');
  }

  /**
   * Imports an export stream (body `application/x-ndjson`) in bulk, keeping types and
   * versions; idempotent by event id. Each chunk reserves the emails of the registrations
   * it writes in its own transaction (the earliest registration keeps an email) and the
   * answer lists those whose email another user holds.
   */
  @Post('events/import')
  @HttpCode(200)
  @AcceptsStreamBody()
  async import(@Req() req: HttpRequest) {
    if (!hasMediaType(req, 'application/x-ndjson')) {
      throw new RequestError('REQUEST.UNSUPPORTED_MEDIA_TYPE', 415, 'Send the export format as application/x-ndjson');
    }
    const emails = new ImportedEmails(this.store, this.emails);
    // Bytes, not strings: the import streams them into COPY as they are.
    const length = Number(req.headers['content-length']);
    const totalBytes = Number.isFinite(length) ? length : undefined;
    // Plaintext personal fields (history from before encryption) are encrypted on the way in.
    const report = await importLines(this.store, sealPlaintextLines(this.store, requestBodyStream(req)), {
      totalBytes,
      inChunk: emails.hook,
    });
    return { ...report, duplicateEmails: emails.duplicates, duplicateEmailCount: emails.duplicateCount };
  }

  /** Reads every stored event through the upcasters and validators; lists each that fails, and registrations with a taken email. */
  @Post('events/verify')
  @HttpCode(200)
  async verify() {
    const { checked, failures, failureCount, byType, plaintextPersonalFields, durationMs } = await verifyStore(this.store);
    const emails = await auditEmails(this.store, this.emails);
    return {
      checked,
      failures,
      failureCount,
      byType,
      plaintextPersonalFields,
      durationMs,
      duplicateEmails: emails.duplicates,
      duplicateEmailCount: emails.duplicateCount,
    };
  }
}
