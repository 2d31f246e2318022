/**
 * The real server (main.ts) as a subprocess on a temp data dir and a free
 * loopback port, driven through the JSON API. Never asserts.
 */
import { BENCH_KEY, childPids, denoEnv, procStatusKb } from "./_proc.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** A free loopback port. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * The real server (main.ts) as a subprocess on a temp data dir; `env` adds
 * to (or overrides) its environment, e.g. BATCHGEN_MAX_RUNNING; `flags` go
 * to `deno run` (e.g. --cpu-prof).
 */
export async function startServer(
  geminiBaseUrl: string,
  concurrency: number,
  env: Record<string, string> = {},
  flags: string[] = [],
) {
  const dataDir = await Deno.makeTempDir({ prefix: "batchgen-bench-srv-" });
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...flags, "main.ts"],
    cwd: ROOT,
    clearEnv: true,
    env: {
      ...denoEnv(),
      PORT: String(port),
      BATCHGEN_DATA_DIR: dataDir,
      BATCHGEN_GEMINI_BASE_URL: geminiBaseUrl,
      BATCHGEN_CONCURRENCY: String(concurrency),
      NO_COLOR: "1",
      ...env,
    },
    stdin: "null",
    stdout: "null",
    stderr: Deno.env.get("BENCH_STDERR") ? "inherit" : "null",
  }).spawn();
  for (let i = 0; i < 200; i++) {
    try {
      await (await fetch(url)).body?.cancel();
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    pid: child.pid,
    dataDir,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      await child.status;
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * Creates a batch of `items` prompts over the JSON API, in the workspace of
 * `cookie` or in a new one.
 */
export async function createBatch(
  server: { url: string },
  items: number,
  workspace?: string,
) {
  const created = await fetch(`${server.url}/api/batches`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(workspace ? { cookie: workspace } : {}),
    },
    body: JSON.stringify({
      prompts: Array.from({ length: items }, (_, i) => `a bench prompt ${i}`),
      model: "gemini-nano-banana-2.1",
    }),
  });
  const cookie = workspace ??
    created.headers.get("set-cookie")?.split(";")[0] ?? "";
  const { id } = await created.json();
  return { id: String(id), cookie };
}

export function startRun(
  server: { url: string },
  batch: { id: string; cookie: string },
) {
  return fetch(`${server.url}/api/batches/${batch.id}/run`, {
    method: "POST",
    headers: { cookie: batch.cookie, "x-goog-api-key": BENCH_KEY },
  });
}

/** Creates a batch of `items` prompts over the JSON API and runs it to its end. */
export async function runThroughServer(
  server: { url: string },
  items: number,
): Promise<{ status: string; succeeded: number; wallMs: number }> {
  const batch = await createBatch(server, items);
  const started = performance.now();
  const run = await startRun(server, batch);
  const lines = (await run.text()).split("\n").filter(Boolean);
  const last = JSON.parse(lines.at(-1) ?? "{}");
  return {
    status: last.batch?.status ?? `no batch line (${last.type ?? "empty"})`,
    succeeded: last.batch?.counts?.succeeded ?? 0,
    wallMs: performance.now() - started,
  };
}

/**
 * Starts a run, waits for its first saved image, cancels it over the API
 * and measures how long until the NDJSON stream ends and the generator
 * process is gone.
 */
export async function measureCancel(
  server: { url: string; pid: number },
  items: number,
): Promise<
  {
    streamEndMs: number;
    generatorGoneMs?: number;
    status: string;
    saved: number;
  }
> {
  const batch = await createBatch(server, items);
  const run = await startRun(server, batch);
  const reader = run.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes('"image-saved"')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  const generators = childPids(server.pid, "__generator");
  const t0 = performance.now();
  let generatorGoneMs: number | undefined;
  const watch = setInterval(() => {
    if (generatorGoneMs !== undefined) return;
    if (generators.every((pid) => procStatusKb(pid, "VmRSS") === undefined)) {
      generatorGoneMs = performance.now() - t0;
    }
  }, 5);
  await (await fetch(`${server.url}/api/batches/${batch.id}/cancel`, {
    method: "POST",
    headers: { cookie: batch.cookie },
  })).body?.cancel();
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  const streamEndMs = performance.now() - t0;
  await new Promise((resolve) => setTimeout(resolve, 100));
  clearInterval(watch);
  const lines = text.split("\n").filter(Boolean);
  const last = JSON.parse(lines.at(-1) ?? "{}");
  return {
    streamEndMs,
    generatorGoneMs: generators.length > 0 ? generatorGoneMs : undefined,
    status: last.batch?.status ?? `no batch line (${last.type ?? "empty"})`,
    saved: last.batch?.counts?.succeeded ?? 0,
  };
}
