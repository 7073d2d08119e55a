/**
 * One socket write per round of amqplib's frame multiplexer, instead of one
 * per frame.
 *
 * amqplib's `Mux` moves each channel's frames to the socket one `write()` at
 * a time, and under Deno's Node layer every socket write is an operation of
 * its own (about 50 to 75 µs of CPU). A worker that publishes a result and
 * acks its task sends two writes per task; a sender, a publish and an ack.
 * Corking the socket for the length of one multiplexer round turns all the
 * frames that round found (often dozens under load) into one `writev`. The
 * frames, their order and when they leave are unchanged: the round ends by
 * uncorking, so nothing waits for a later tick.
 *
 * Like `amqp_header_frames.ts`, this patches one connection, never the
 * module, and checks the internals it relies on (`muxer._readIncoming`,
 * `stream.cork`/`uncork`) at connect.
 * @module
 */

/** What amqplib's `Connection` has that the patch uses. */
interface Multiplexed {
  muxer: { _readIncoming(): void };
  stream: { cork(): void; uncork(): void };
}

/**
 * Patch the connection under an amqplib `ChannelModel`; call it right after connect.
 * @throws {TypeError} when amqplib's internals are not what the patch expects
 */
export function batchSocketWrites(model: unknown): void {
  const connection = (model as { connection?: Partial<Multiplexed> } | null)?.connection;
  if (
    typeof connection?.muxer?._readIncoming !== "function" ||
    typeof connection.stream?.cork !== "function" ||
    typeof connection.stream.uncork !== "function"
  ) {
    throw new TypeError(
      "Cannot batch amqplib's socket writes: its Connection internals changed " +
        "(expected muxer._readIncoming, stream.cork, stream.uncork); keep amqplib pinned at the version in deno.json",
    );
  }
  const { muxer, stream } = connection as Multiplexed;
  const readIncoming = muxer._readIncoming;
  muxer._readIncoming = function readIncomingCorked(this: unknown): void {
    stream.cork();
    try {
      readIncoming.call(this);
    } finally {
      stream.uncork();
    }
  };
}
