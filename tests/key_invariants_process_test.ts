/**
 * K4 (never on a command line; a cleared, explicit environment; the generator
 * drops the key from its environment) and K6 (when the request ends, the
 * generator holding the key is killed), checked on the real child process
 * through /proc while a slow run is in flight.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createBatchViaApi,
  form,
  startTestApp,
  TEST_KEY,
  TEST_KEY_OLD,
  type TestApp,
} from "./_helpers.ts";
import { findKeyMaterial, readGeneratorProc } from "./_key_leaks.ts";
import {
  GENERATOR_MODE,
  generatorArgs,
  generatorCommand,
  type GeneratorRun,
} from "../engine/runner.ts";

const MODEL = "gemini-nano-banana-2.1";
const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** What the child's initial environment may name (design.md §4). */
const ALLOWED_ENV = new Set([
  "GEMINI_API_KEY",
  "BATCHGEN_GEMINI_BASE_URL",
  "PATH",
  "HOME",
  "DENO_DIR",
  "XDG_CACHE_HOME",
  "NO_COLOR",
]);

/** Wraps the app's spawn so the test sees every generator it starts. */
function capturePids(t: TestApp): number[] {
  const pids: number[] = [];
  const spawn = t.deps.spawn;
  t.deps.spawn = (job, options) => {
    const run: GeneratorRun = spawn(job, options);
    pids.push(run.pid);
    return run;
  };
  return pids;
}

async function waitFor(
  what: string,
  ok: () => boolean | Promise<boolean>,
  ms = 5000,
) {
  const until = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function processGone(pid: number): boolean {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]?.[0] ===
      "Z";
  } catch (error) {
    // Without --allow-all Deno refuses /proc: fail, never answer "gone".
    if (error instanceof Deno.errors.NotCapable) throw error;
    return true;
  }
}

// Steps: the command under `deno run` and in a `deno compile` binary.
Deno.test("K4 generatorArgs() carries no key material", async (t) => {
  for (const standalone of [false, true]) {
    await t.step(standalone ? "compiled" : "deno run", () => {
      const target = {
        apiBaseUrl: "http://127.0.0.1:9",
        outputDir: "/tmp/batchgen/out",
      };
      const { args } = generatorCommand(target, {
        standalone,
        execPath: standalone ? "/usr/local/bin/batchgen" : Deno.execPath(),
      });
      if (!standalone) {
        assert.deepEqual(
          generatorArgs(target.apiBaseUrl, target.outputDir),
          args,
        );
      }
      assert.equal(args.at(-1), GENERATOR_MODE);
      for (const key of [TEST_KEY, TEST_KEY_OLD]) {
        assert.equal(findKeyMaterial(args.join("\0"), key), undefined);
      }
      assert.ok(
        !args.some((a) => /GEMINI_API_KEY|api[-_]?key/i.test(a)),
        args.join(" "),
      );
    });
  }
});

Deno.test("K4 the running generator's argv lacks the key; its initial environment is cleared and explicit", async () => {
  const canary = `canary-${crypto.randomUUID()}`;
  Deno.env.set("BATCHGEN_CANARY_SECRET", canary);
  try {
    await using t = await startTestApp();
    const pids = capturePids(t);
    const { id, cookie } = await createBatchViaApi(t, {
      prompts: ["a slow heron [slow:3000]"],
      model: MODEL,
    });
    const running = t.request(`/api/batches/${id}/run`, {
      method: "POST",
      headers: { "x-goog-api-key": TEST_KEY, cookie },
    }).then((r) => r.text());
    await waitFor("the generator to start", () => pids.length > 0);
    const proc = await readGeneratorProc(pids[0]!);
    assert.ok(proc, "the generator ended before /proc could be read");
    // Started through the program's entry, as the compiled binary is.
    assert.equal(proc.argv.at(-1), GENERATOR_MODE, proc.argv.join(" "));
    assert.equal(proc.argv.at(-2), join(ROOT, "main.ts"));
    assert.equal(
      findKeyMaterial(proc.cmdlineBytes, TEST_KEY),
      undefined,
      `key material in argv: ${proc.argv.join(" ")}`,
    );
    const names = proc.environ.map((e) => e.slice(0, e.indexOf("=")));
    const extra = names.filter((n) => !ALLOWED_ENV.has(n));
    assert.deepEqual(
      extra,
      [],
      `variables beyond the allowed list (all: ${names.join(", ")})`,
    );
    assert.ok(!names.includes("BATCHGEN_CANARY_SECRET"), "env not cleared");
    assert.ok(!proc.environ.some((e) => e.includes(canary)), "env not cleared");
    // The hand-off itself: exactly one variable carries the key.
    const carrying = proc.environ.filter((e) =>
      findKeyMaterial(e, TEST_KEY) !== undefined
    );
    assert.deepEqual(carrying, [`GEMINI_API_KEY=${TEST_KEY}`]);
    assert.ok(proc.environ.includes(`BATCHGEN_GEMINI_BASE_URL=${t.fake.url}`));
    assert.match(await running, /"type":"batch"/);
  } finally {
    Deno.env.delete("BATCHGEN_CANARY_SECRET");
  }
});

/** Runs `code` in a fresh Deno with GEMINI_API_KEY set; returns its stdout JSON. */
async function evalWithKey(code: string, stdin = "") {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", code],
    cwd: ROOT,
    clearEnv: true,
    env: {
      GEMINI_API_KEY: TEST_KEY,
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "",
      ...(Deno.env.get("DENO_DIR")
        ? { DENO_DIR: Deno.env.get("DENO_DIR")! }
        : {}),
      NO_COLOR: "1",
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr) + stdout);
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

const REPORT = `
const report = (took) => Deno.stdout.writeSync(new TextEncoder().encode(
  JSON.stringify({
    took,
    afterGet: Deno.env.get("GEMINI_API_KEY") ?? null,
    inObject: "GEMINI_API_KEY" in Deno.env.toObject(),
  }) + "\\n"));`;

Deno.test("K4 takeApiKey() reads the key once and removes it from the generator's environment", async () => {
  const url = new URL("../generator/process_io.ts", import.meta.url).href;
  const result = await evalWithKey(`${REPORT}
import { takeApiKey } from ${JSON.stringify(url)};
const before = Deno.env.get("GEMINI_API_KEY");
report(takeApiKey() === before && before.length > 0);`);
  assert.deepEqual(result, { took: true, afterGet: null, inObject: false });
});

Deno.test("K4 the entry's generator mode (what the server and the binary run) removes the key before doing anything else", async () => {
  const url = new URL("../main.ts", import.meta.url).href;
  const result = await evalWithKey(
    `${REPORT}
import { runEntry } from ${JSON.stringify(url)};
report(await runEntry([${JSON.stringify(GENERATOR_MODE)}]));`,
    "{}",
  );
  assert.deepEqual(result, { took: 2, afterGet: null, inObject: false });
});

Deno.test("K4 the generator's child mode removes the key from its environment before doing anything else", async () => {
  const url = new URL("../generator/main.ts", import.meta.url).href;
  // An empty job: the child stops with a usage error right after reading it.
  const result = await evalWithKey(
    `${REPORT}
import { main } from ${JSON.stringify(url)};
report(await main([]));`,
    "{}",
  );
  assert.deepEqual(result, { took: 2, afterGet: null, inObject: false });
});

for (const via of ["page SSE", "API NDJSON"] as const) {
  Deno.test({
    name:
      `K6 a client that disconnects mid-run (${via}) gets its generator killed within 2 s; items end interrupted`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      await using t = await startTestApp();
      await using server = Deno.serve(
        { port: 0, hostname: "127.0.0.1", onListen() {} },
        (request, info) =>
          t.app.fetch(request, { remoteAddr: info.remoteAddr }),
      );
      const pids = capturePids(t);
      const { id, cookie } = await createBatchViaApi(t, {
        prompts: [
          "slow 1 [slow:5000]",
          "slow 2 [slow:5000]",
          "slow 3 [slow:5000]",
        ],
        model: MODEL,
        concurrency: 2,
      });
      const base = `http://127.0.0.1:${server.addr.port}`;
      const client = new AbortController();
      const response = await fetch(
        via === "page SSE"
          ? `${base}/batches/${id}/run`
          : `${base}/api/batches/${id}/run`,
        {
          method: "POST",
          signal: client.signal,
          headers: via === "page SSE"
            ? { cookie, origin: base }
            : { cookie, "x-goog-api-key": TEST_KEY },
          body: via === "page SSE" ? form({ apiKey: TEST_KEY }) : undefined,
        },
      );
      assert.equal(response.status, 200);
      await waitFor(
        "2 requests in flight at Google",
        () =>
          t.fake.requests.filter((r) => r.path.includes(":generate")).length >=
            2,
      );
      const pid = pids[0]!;
      assert.ok(!processGone(pid), "the generator ended before the disconnect");

      const sent = t.fake.requests.length;
      const abortedAt = Date.now();
      client.abort();
      await response.body?.cancel().catch(() => {});
      await waitFor("the generator to be killed", () => processGone(pid), 2000);
      const killedAfter = Date.now() - abortedAt;
      assert.ok(killedAfter < 2000, `killed after ${killedAfter} ms`);
      await waitFor("the run to end", () => t.deps.activeRuns.size === 0);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(
        t.fake.requests.length,
        sent,
        "Google was called after the disconnect",
      );

      const record = await (await t.request(`/api/batches/${id}`, {
        headers: { cookie },
      })).json();
      assert.deepEqual(
        record.items.map((i: { status: string }) => i.status),
        ["interrupted", "interrupted", "interrupted"],
      );
      assert.equal(record.status, "interrupted");
      assert.match(record.statusMessage, /Interrupted/);
      assert.equal(t.deps.activeRuns.size, 0);
    },
  });
}
