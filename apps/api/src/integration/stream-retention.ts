/** Retention policies a JetStream stream may be created with (all three exist in NATS 2.9). */
export const STREAM_RETENTIONS = ['limits', 'interest', 'workqueue'] as const;

/** One of `STREAM_RETENTIONS`. */
export type StreamRetention = (typeof STREAM_RETENTIONS)[number];
