/**
 * [one binary] main.ts is the whole program, as `deno compile` builds it:
 * `--help` lists the commands, `generate --help` is the CLI's, and `serve`
 * runs a batch through the JSON API with the generator started as the
 * entry's internal mode (`main.ts __generator`), the key only in its
 * environment. The compiled branch of the spawn (the executable + the mode;
 * no `run`, no script path, no cwd) runs against a stand-in binary: a script
 * that runs the same entry with the permissions of `deno task compile`.
 * The binary itself is not built here (no `denort`; see the README).
 *
 * Reads the generator's /proc/<pid>/cmdline: run with --allow-all.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  GENERATOR_MODE,
  generatorCommand,
  spawnGenerator,
} from "../engine/runner.ts";
import type { GeneratorEvent } from "../core/protocol.ts";
import { USAGE as CLI_USAGE } from "../generator/cli_args.ts";
import { makeJob } from "../generator/child_test_helpers.ts";
import { startFakeGemini } from "./fake_gemini.ts";
import { findKeyMaterial, readGeneratorProc } from "./_key_leaks.ts";
import { TEST_KEY } from "./_helpers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ENTRY = join(ROOT, "main.ts");
const MODEL = "gemini-nano-banana-2.1";

/** What Deno needs to start, and nothing else (K4). */
function denoEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value) env[name] = value;
  }
  return env;
}

/** A task's command from deno.json, as arguments for `Deno.execPath()`. */
async function taskArgs(name: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  const [deno, ...args] = String(config.tasks[name].command).split(/\s+/);
  assert.equal(deno, "deno", `task ${name} must be one plain deno command`);
  return args;
}

/** Runs `deno <args>` in the project folder to its end. */
async function runDeno(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    clearEnv: true,
    env: { ...denoEnv(), ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Pids whose parent is `parent`, read from /proc. */
function childPids(parent: number): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      // The ppid follows the command name, which may hold spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === parent) pids.push(Number(entry.name));
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) throw error;
      // The process ended while we looked.
    }
  }
  return pids;
}

async function waitFor<T>(
  what: string,
  get: () => T | undefined | Promise<T | undefined>,
  ms = 30_000,
): Promise<T> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const value = await get();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test("[one binary] --help lists serve and generate, not the internal mode", async () => {
  for (const flag of ["--help", "-h", "help"]) {
    const { code, stdout, stderr } = await runDeno(["run", ENTRY, flag]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^Usage: batchgen \[COMMAND\]/);
    assert.match(stdout, /^ {2}serve\b.*\(the default\)/m);
    assert.match(stdout, /^ {2}generate \[OPTIONS\]/m);
    assert.doesNotMatch(stdout, new RegExp(GENERATOR_MODE));
  }
});

Deno.test("[one binary] generate --help, through `deno task generate`'s command, prints the CLI's usage", async () => {
  const { code, stdout, stderr } = await runDeno([
    ...await taskArgs("generate"),
    "--help",
  ]);
  assert.equal(code, 0, stderr);
  assert.equal(stdout, CLI_USAGE + "\n");
});

Deno.test("[one binary] an unknown command or a stray option exits 2; a key-like word is not echoed", async () => {
  const unknown = await runDeno(["run", ENTRY, "frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown command "frobnicate"/);
  const key = await runDeno(["run", ENTRY, TEST_KEY]);
  assert.equal(key.code, 2);
  assert.equal(findKeyMaterial(key.stderr + key.stdout, TEST_KEY), undefined);
  const serveOption = await runDeno(["run", ENTRY, "serve", "--port", "1"]);
  assert.equal(serveOption.code, 2);
  assert.match(serveOption.stderr, /serve takes no options/);
  const modeOption = await runDeno(["run", ENTRY, GENERATOR_MODE, "--job"]);
  assert.equal(modeOption.code, 2);
});

Deno.test("[one binary] the generator mode gives up run, ffi and sys (a binary has them all)", async () => {
  const url = new URL("../main.ts", import.meta.url).href;
  const { code, stdout, stderr } = await runDeno([
    "eval",
    `import { dropGeneratorSpareAccess } from ${JSON.stringify(url)};
dropGeneratorSpareAccess();
const states = ["run", "ffi", "sys", "net", "read", "write", "env"].map(
  (name) => [name, Deno.permissions.querySync({ name }).state],
);
Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(Object.fromEntries(states))));`,
  ]);
  assert.equal(code, 0, stderr);
  assert.deepEqual(JSON.parse(stdout), {
    run: "prompt",
    ffi: "prompt",
    sys: "prompt",
    net: "granted",
    read: "granted",
    write: "granted",
    env: "granted",
  });
});

Deno.test({
  name:
    "[one binary] `deno task start`'s command serves; a batch through the JSON API runs its generator as `main.ts __generator`",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using fake = startFakeGemini();
    const dataDir = await Deno.makeTempDir({ prefix: "batchgen-one-binary-" });
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    const startArgs = await taskArgs("start");
    assert.deepEqual(startArgs.slice(-2), ["main.ts", "serve"]);
    const server = new Deno.Command(Deno.execPath(), {
      args: startArgs,
      cwd: ROOT,
      clearEnv: true,
      env: {
        ...denoEnv(),
        PORT: String(port),
        HOST: "127.0.0.1",
        BATCHGEN_DATA_DIR: dataDir,
        BATCHGEN_GEMINI_BASE_URL: fake.url,
      },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const serverLog = new Response(server.stderr).text();
    try {
      await waitFor("the server to listen", async () => {
        try {
          await (await fetch(base)).body?.cancel();
          return true;
        } catch {
          return undefined;
        }
      });
      const created = await fetch(`${base}/api/batches`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          prompts: [
            "a slow red fox [slow:1500]",
            "a slow blue whale [slow:1500]",
          ],
          model: MODEL,
        }),
      });
      assert.equal(created.status, 201, await created.clone().text());
      const cookie = created.headers.get("set-cookie")?.split(";")[0] ?? "";
      const { id } = await created.json();

      const run = fetch(`${base}/api/batches/${id}/run`, {
        method: "POST",
        headers: { "x-goog-api-key": TEST_KEY, cookie },
      });
      const proc = await waitFor("the generator", async () => {
        for (const pid of childPids(server.pid)) {
          const view = await readGeneratorProc(pid, 200);
          if (view) return view;
        }
        return undefined;
      });
      const [program, ...args] = proc.argv;
      assert.equal(program, Deno.execPath());
      assert.equal(args[0], "run");
      assert.deepEqual(args.slice(-2), [ENTRY, GENERATOR_MODE]);
      assert.ok(
        !args.some((a) => a.endsWith("generator/main.ts")),
        proc.argv.join(" "),
      );
      assert.equal(findKeyMaterial(proc.cmdlineBytes, TEST_KEY), undefined);
      assert.deepEqual(
        proc.environ.filter((e) => e.includes(TEST_KEY)),
        [`GEMINI_API_KEY=${TEST_KEY}`],
      );

      const response = await run;
      assert.equal(response.status, 200);
      const events = (await response.text()).split("\n").filter(Boolean)
        .map((line) => JSON.parse(line));
      const last = events.at(-1);
      assert.equal(last.type, "batch", JSON.stringify(last));
      assert.equal(last.batch.counts.succeeded, 2, JSON.stringify(last));

      const record = await (await fetch(`${base}/api/batches/${id}`, {
        headers: { cookie },
      })).json();
      const image = await fetch(`${base}${record.items[0].image.url}`, {
        headers: { cookie },
      });
      assert.equal(image.status, 200);
      assert.equal(image.headers.get("content-type"), "image/png");
      await image.body?.cancel();
      const calls = fake.requests.filter((r) => r.path.includes(":generate"));
      assert.equal(calls.length, 2);
      assert.ok(calls.every((r) => r.headers["x-goog-api-key"] === TEST_KEY));
    } finally {
      server.kill("SIGTERM");
      const status = await server.status;
      const log = await serverLog;
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      assert.equal(status.code, 0, log);
      assert.equal(findKeyMaterial(log, TEST_KEY), undefined, log);
    }
  },
});

Deno.test("[one binary] compiled: the server starts its own executable with the mode alone, no cwd, the key only in the environment", async () => {
  await using fake = startFakeGemini();
  const dir = await Deno.makeTempDir({ prefix: "batchgen-one-binary-" });
  try {
    // The stand-in records what it was given, then runs the same entry with
    // the permissions `deno task compile` builds into the binary.
    const compileFlags = (await taskArgs("compile")).filter((a) =>
      a.startsWith("--allow-")
    );
    const binary = join(dir, "batchgen");
    const seen = join(dir, "seen.txt");
    const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
    await Deno.writeTextFile(
      binary,
      `#!/bin/sh
{ env | cut -d= -f1 | sort | tr '\\n' ' '; echo; printf '%s\\n' "$@"; } > ${
        quote(seen)
      }
exec ${quote(Deno.execPath())} run --quiet ${compileFlags.join(" ")} \\
  --config ${quote(join(ROOT, "deno.json"))} ${quote(ENTRY)} "$@"
`,
      { mode: 0o755 },
    );
    const job = makeJob(join(dir, "out"), ["a red fox", "a blue whale"]);
    const run = spawnGenerator(job, {
      apiKey: TEST_KEY,
      apiBaseUrl: fake.url,
      baseEnv: {
        PATH: Deno.env.get("PATH") ?? "",
        HOME: Deno.env.get("HOME") ?? "",
        ...(Deno.env.get("DENO_DIR")
          ? { DENO_DIR: Deno.env.get("DENO_DIR")! }
          : {}),
      },
      runtime: { standalone: true, execPath: binary },
    });
    const events: GeneratorEvent[] = [];
    for await (const event of run.events) events.push(event);
    assert.equal(await run.exited, 0);
    assert.deepEqual(events.at(-1), { type: "done", succeeded: 2, failed: 0 });

    const [names = "", ...argv] = (await Deno.readTextFile(seen)).split("\n")
      .filter(Boolean);
    assert.deepEqual(argv, [GENERATOR_MODE]);
    // No cwd of its own: the binary's module paths are virtual, not on disk.
    assert.deepEqual(
      generatorCommand(
        { apiBaseUrl: fake.url, outputDir: job.outputDir },
        { standalone: true, execPath: binary },
      ),
      { command: binary, args: [GENERATOR_MODE] },
    );
    const envNames = names.trim().split(" ");
    assert.ok(envNames.includes("GEMINI_API_KEY"), names);
    assert.ok(
      envNames.every((n) =>
        [
          "GEMINI_API_KEY",
          "BATCHGEN_GEMINI_BASE_URL",
          "NO_COLOR",
          "PATH",
          "HOME",
          "DENO_DIR",
          // Added by the shell itself.
          "PWD",
          "SHLVL",
          "_",
          "OLDPWD",
        ].includes(n)
      ),
      names,
    );
    assert.equal(findKeyMaterial(argv.join("\0"), TEST_KEY), undefined);
    const saved = [...Deno.readDirSync(job.outputDir)].map((e) => e.name);
    assert.equal(saved.filter((n) => /\.(png|jpg|webp)$/.test(n)).length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
