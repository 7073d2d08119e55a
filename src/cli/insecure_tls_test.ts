import assert from "node:assert/strict";
import { insecureTlsWarning } from "./insecure_tls.ts";

Deno.test("insecureTlsWarning() warns only for NODE_TLS_REJECT_UNAUTHORIZED=0", () => {
  assert.match(insecureTlsWarning({ NODE_TLS_REJECT_UNAUTHORIZED: "0" }) ?? "", /NOT verified/);
  for (const value of [undefined, "1", "", "false"]) {
    assert.equal(insecureTlsWarning({ NODE_TLS_REJECT_UNAUTHORIZED: value }), null, value);
  }
});
