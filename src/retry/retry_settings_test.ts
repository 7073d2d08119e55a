import assert from "node:assert/strict";
import { retrySettingsProblems } from "./retry_settings.ts";

Deno.test("retrySettingsProblems() names each broken rule, and none for good settings", () => {
  assert.deepEqual(
    retrySettingsProblems({
      maxRetries: 3,
      backoffMs: 500,
      factor: 2,
      maxBackoffMs: 30_000,
      jitter: true,
    }),
    [],
  );
  assert.deepEqual(
    retrySettingsProblems({ maxRetries: -1, factor: 0.5, backoffMs: -2, jitter: "yes" }),
    [
      { field: "maxRetries", message: "must be >= 0" },
      { field: "backoffMs", message: "must be >= 0" },
      { field: "factor", message: "must be >= 1" },
      { field: "jitter", message: "must be true or false" },
    ],
  );
  assert.deepEqual(retrySettingsProblems({ maxRetries: 1.5 }), [{
    field: "maxRetries",
    message: "must be a whole number",
  }]);
});

Deno.test("retrySettingsProblems() checks maxBackoffMs >= backoffMs only for settings written together", () => {
  const settings = { backoffMs: 2000, maxBackoffMs: 1000 };
  assert.deepEqual(
    retrySettingsProblems(settings, { name: (f) => (f === "backoffMs" ? "backoff" : f) }),
    [
      { field: "maxBackoffMs", message: "must be >= backoff (2000ms)" },
    ],
  );
  assert.deepEqual(retrySettingsProblems(settings, { together: false }), []);
});
