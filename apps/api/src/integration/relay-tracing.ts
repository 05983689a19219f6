import type { AroundPublish } from '@app/event-store';
import { withEventSpan } from '../observability/event-span';

/**
 * Each relay publish in a `relay.publish <type>` span (kind producer) whose parent is the trace
 * context stored with the event, so one trace runs from the request through its append and
 * projections to the publish. The message carries the stored `traceparent` (the append's context).
 * Without a tracing SDK the span is the API's no-op one.
 */
export const relayPublishSpan: AroundPublish = (event, publish) => withEventSpan(`relay.publish ${event.type}`, event, () => publish());
