/**
 * Field schemas shared by the config sections: durations, task keys, counts, ports.
 * Messages are phrased to follow a path: `tasks.a.timeout must be a duration like 500ms, 30s or 2m`.
 * @module
 */
import { z } from "zod";
import { brokerUrlsProblem, splitBrokerUrls } from "../transport/broker_urls.ts";
import { bareNumberHint, parseDuration } from "./duration.ts";

/** A task key as used in `tasks`, `scaling`, jobs and `--task`: letters, digits, `_` and `-`. */
export const TASK_KEY_PATTERN: RegExp = /^[A-Za-z0-9_-]+$/;

const DURATION_MESSAGE = "must be a duration like 500ms, 30s or 2m";

/** A duration written `500ms`, `30s`, `2m` or `1h` (a bare number other than 0 is refused); outputs milliseconds. */
export function durationMs(
  options: { positive?: boolean } = {},
): z.ZodPipe<
  z.ZodUnion<readonly [z.ZodString, z.ZodNumber]>,
  z.ZodTransform<number, string | number>
> {
  return z.union([z.string(), z.number()], { error: DURATION_MESSAGE }).transform(
    (value, ctx): number => {
      let ms: number;
      try {
        ms = parseDuration(value);
      } catch {
        const hint = bareNumberHint(value);
        const message = hint === null ? DURATION_MESSAGE : `must have a unit: ${hint}`;
        ctx.issues.push({ code: "custom", message, input: value });
        return z.NEVER;
      }
      if (options.positive && ms <= 0) {
        ctx.issues.push({ code: "custom", message: "must be a duration above 0", input: value });
        return z.NEVER;
      }
      return ms;
    },
  );
}

/** A key naming a task (`a`, `fast-b`); see `TASK_KEY_PATTERN`. */
export function taskKey(): z.ZodString {
  return z.string().regex(
    TASK_KEY_PATTERN,
    "must be a task key made of letters, digits, _ or - (e.g. a)",
  );
}

/** A whole number of at least `min`. */
export function wholeNumber(min: number): z.ZodNumber {
  return z.number().int().min(min);
}

/** A TCP port, 0 to 65535. */
export function port(): z.ZodNumber {
  return z.number().int().min(0).max(65_535);
}

/** A broker URL: `amqp://`, `amqps://` or `memory://`. */
export function brokerUrl() {
  return z.preprocess(
    // A YAML list of a cluster's nodes is the same failover list as "url1;url2".
    (value) =>
      Array.isArray(value) && value.every((v) => typeof v === "string") ? value.join(";") : value,
    z.string().superRefine((spec, ctx) => {
      const urls = splitBrokerUrls(spec);
      const wrong = urls.length === 0 ||
        urls.some((url) => !/^(amqps?|memory):\/\//i.test(url));
      const problem = wrong
        ? "must be a URL starting with amqp://, amqps:// or memory://"
        : brokerUrlsProblem(spec);
      if (problem !== null) ctx.addIssue({ code: "custom", message: problem });
    }),
  );
}

/**
 * A section or entry that may be left out or written empty (`b:` or `b: {}`):
 * null and undefined both parse as `{}`, so the section's defaults apply.
 */
export function section<T extends z.ZodType>(schema: T): z.ZodPreprocess<T> {
  return z.preprocess((value) => value ?? {}, schema);
}
