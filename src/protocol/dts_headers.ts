/**
 * Headers dts itself adds to messages, named once for every layer that
 * writes or reads them.
 * @module
 */

/**
 * Added by the AMQP transport when some header of a delivered message could
 * not be read (nested too deep, an unknown type); its value says which and
 * why. A task message carrying it is malformed and dead-lettered.
 */
export const UNDECODABLE_HEADER = "x-dts-undecodable";

/**
 * How many times a task message came back to a worker because the worker
 * that held it died or lost its connection first. Written by the worker that
 * receives such a redelivery, on the copy it puts back; past
 * `worker.max_redeliveries` the message is dead-lettered as poison.
 */
export const REDELIVERIES_HEADER = "x-dts-redeliveries";

/** Set by a sender to ask for a STARTED state message (Celery's `track_started`). */
export const TRACK_STARTED_HEADER = "dts_track_started";
