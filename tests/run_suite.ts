/**
 * `deno task test`: makes sure a Chromium exists (and Caddy and nginx for the
 * deploy/ proxy tests, which are ignored with the reason when they cannot
 * be installed), then runs the whole suite
 * with the narrowest permissions that work, not `-A`:
 *
 * - Most tests: network only to loopback (every fake listens there), writes
 *   only to the temp folder, subprocesses only Deno itself (the generator),
 *   the browser, `unzip` and `openssl`. Reading files and the environment,
 *   system information (libSQL, Playwright) and FFI (libSQL's native module)
 *   stay open: the Deno cache, npm packages and temp files live in places
 *   that differ from machine to machine.
 * - `NEEDS_ALL` below runs with `--allow-all`, because Deno grants reads of
 *   /proc only with it: the process tests read the generator's
 *   /proc/<pid>/cmdline and environ (K4, K6, the leak canary), and
 *   Playwright probes /proc/sys/fs/binfmt_misc when it loads (browser tests).
 */
import { tmpdir } from "node:os";
import { ensureBrowser } from "./ensure_browser.ts";
import { ensureProxies } from "./ensure_caddy.ts";

const NEEDS_ALL = [
  "tests/e2e/",
  "tests/leak_canary_test.ts",
  "tests/leak_canary_batch_test.ts",
  "tests/key_invariants_process_test.ts",
  "tests/one_binary_test.ts",
  "tests/engine_cancel_test.ts",
];

const NARROW = [
  "--allow-read",
  `--allow-write=${Deno.env.get("TMPDIR") || tmpdir()}`,
  "--allow-net=127.0.0.1,localhost,[::1]",
  "--allow-env",
  "--allow-sys",
  "--allow-ffi",
];

async function denoTest(args: string[]): Promise<number> {
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["test", "--parallel", ...args, ...Deno.args],
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return code;
}

const browser = await ensureBrowser();
if (!browser) Deno.exit(1);
await ensureProxies();

const narrow = await denoTest([
  ...NARROW,
  `--allow-run=${[Deno.execPath(), browser, "unzip", "openssl"].join(",")}`,
  "--ignore=bench," + NEEDS_ALL.join(","),
]);
const all = await denoTest(["--allow-all", ...NEEDS_ALL]);
Deno.exit(narrow !== 0 ? narrow : all);
