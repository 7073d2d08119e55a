/**
 * Run one dts command line in this process with the real permission drop,
 * then print which permissions are left as JSON on the last stdout line.
 * `deno run -P=dts tests/helpers/permissions_probe.ts <dts args…>`
 * @module
 */
import { dropPermissions } from "../../src/cli/drop_permissions.ts";
import { runCli } from "../../src/cli/program.ts";

const code = await runCli(Deno.args, {
  env: {},
  stdout: () => {},
  stderr: (text) => console.error(text.trimEnd()),
  stdoutIsTerminal: false,
  stderrIsTerminal: false,
  stdoutColumns: null,
  stderrColumns: null,
  shutdown: new AbortController().signal,
  hostname: "probe",
  pid: Deno.pid,
  dropPermissions,
}).catch(() => -1);
const left: Record<string, string> = {};
for (const name of ["run", "write", "net", "read"] as const) {
  left[name] = (await Deno.permissions.query({ name })).state;
}
console.log(JSON.stringify({ code, left }));
