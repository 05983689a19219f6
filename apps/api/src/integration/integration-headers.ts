import type { RecordedEvent } from '@app/event-store';
import type { IntegrationContract } from './integration-contracts';

/**
 * The headers of every integration message, beside `Nats-Msg-Id` (the event id, for JetStream's
 * duplicate detection). A public contract: docs/api.md lists them.
 */
export const IntegrationHeader = {
  EventId: 'Event-Id',
  EventType: 'Event-Type',
  ContractVersion: 'Event-Contract-Version',
  StreamId: 'Event-Stream-Id',
  StreamVersion: 'Event-Stream-Version',
  Position: 'Event-Position',
  RecordedAt: 'Event-Recorded-At',
  CorrelationId: 'Correlation-Id',
  CausationId: 'Causation-Id',
  TraceParent: 'traceparent',
} as const;

/** W3C trace context: only a well-formed `traceparent` travels on. */
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The header values of one event's message, from the stored event and its metadata (absent ids are left out). */
export function integrationHeaders(event: RecordedEvent, contract: IntegrationContract): Record<string, string> {
  const { correlationId, causationId, traceparent } = event.metadata;
  const headers: Record<string, string> = {
    [IntegrationHeader.EventId]: event.eventId,
    [IntegrationHeader.EventType]: event.type,
    [IntegrationHeader.ContractVersion]: String(contract.contractVersion),
    [IntegrationHeader.StreamId]: event.streamId,
    [IntegrationHeader.StreamVersion]: String(event.streamVersion),
    [IntegrationHeader.Position]: String(event.position),
    [IntegrationHeader.RecordedAt]: new Date(event.recordedAt).toISOString(),
  };
  if (typeof correlationId === 'string' && correlationId) headers[IntegrationHeader.CorrelationId] = correlationId;
  if (typeof causationId === 'string' && causationId) headers[IntegrationHeader.CausationId] = causationId;
  if (typeof traceparent === 'string' && TRACEPARENT.test(traceparent)) headers[IntegrationHeader.TraceParent] = traceparent;
  return headers;
}
