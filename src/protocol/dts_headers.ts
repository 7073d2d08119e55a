/**
 * Headers dts itself adds to task messages, named once for every layer that
 * writes or reads them. (`x-dts-undecodable` belongs to the transport seam:
 * `UNDECODABLE_HEADER` in `transport/transport.ts`.)
 * @module
 */

/**
 * How many times a task message came back to a worker because the worker
 * that held it died or lost its connection first. Written by the worker that
 * receives such a redelivery, on the copy it puts back; past
 * `worker.max_redeliveries` the message is dead-lettered as poison.
 */
export const REDELIVERIES_HEADER = "x-dts-redeliveries";

/** Set by a sender to ask for a STARTED state message (Celery's `track_started`). */
export const TRACK_STARTED_HEADER = "dts_track_started";

/**
 * On a retry message: the `traceparent` of the attempt that failed, so the
 * next attempt's span links to it (the task's own `traceparent` stays that of
 * its send, every attempt's parent).
 */
export const PREVIOUS_ATTEMPT_HEADER = "dts_previous_attempt";
