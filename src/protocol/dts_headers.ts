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
