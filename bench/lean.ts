/**
 * The lean generator's figures (issue 13 part 2), short runs:
 *
 *   deno run -A bench/lean.ts [--runs 3] [--big 200,1000]
 *
 * - spawn → first request, and the child's RSS (VmHWM) when that request
 *   arrives, against a stub that answers one small image;
 * - peak RSS of the child for N images of 2 MB at 8 parallel (fake Gemini);
 * - throughput: wall / ⌈N/C⌉·L, N=200, C=8, L=250 ms, measured from spawn's
 *   `started` to `done`.
 * Never asserts; prints min / median / max.
 */
import { parseArgs } from "node:util";
import { spawnGenerator } from "../engine/runner.ts";
import type { GeneratorEvent, Job } from "../core/protocol.ts";
import { startFakeGemini } from "../tests/fake_gemini.ts";
import { runGenerator } from "./_generator.ts";
import { BENCH_KEY, denoEnv, procStatusKb } from "./_proc.ts";

// deno-lint-ignore no-console
const print = (line = "") => console.log(line);
const stats = (xs: number[], f: (x: number) => string) => {
  const s = [...xs].sort((a, b) => a - b);
  return `min ${f(s[0]!)} / median ${f(s[Math.floor(s.length / 2)]!)} / max ${
    f(s[s.length - 1]!)
  }`;
};
const ms = (x: number) => `${x.toFixed(0)} ms`;
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

// A 1×1 PNG.
const PNG = Uint8Array.fromBase64(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
);

async function firstRequest(): Promise<{ ms: number; rssKb: number }> {
  let pid = 0;
  let spawnedAt = 0;
  let hit: { ms: number; rssKb: number } | undefined;
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    async (req) => {
      await req.body?.cancel();
      hit ??= {
        ms: performance.now() - spawnedAt,
        rssKb: procStatusKb(pid, "VmHWM") ?? NaN,
      };
      return Response.json({
        candidates: [{
          content: {
            parts: [{
              inlineData: { mimeType: "image/png", data: PNG.toBase64() },
            }],
          },
          finishReason: "STOP",
        }],
      });
    },
  );
  const outputDir = await Deno.makeTempDir({ prefix: "batchgen-lean-" });
  const job: Job = {
    batchId: "lean",
    model: "gemini-nano-banana-2.1",
    aspectRatio: "1:1",
    concurrency: 1,
    outputDir,
    timeoutMs: 60_000,
    maxAttempts: 1,
    items: [{ itemId: "a", position: 0, imageIndex: 0, prompt: "a cat" }],
  };
  spawnedAt = performance.now();
  const run = spawnGenerator(job, {
    apiKey: BENCH_KEY,
    apiBaseUrl: `http://127.0.0.1:${server.addr.port}`,
    baseEnv: denoEnv(),
  });
  pid = run.pid;
  for await (const _ of run.events as AsyncIterable<GeneratorEvent>) {
    // drain
  }
  await run.exited;
  await server.shutdown();
  await Deno.remove(outputDir, { recursive: true });
  return hit ?? { ms: NaN, rssKb: NaN };
}

/** Spawn → first request and RSS then, `runs` times. */
export async function measureStart(runs: number) {
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await firstRequest());
  return {
    ms: results.map((r) => r.ms),
    rssKb: results.map((r) => r.rssKb),
  };
}

/** Peak RSS (kB) of the generator for `n` images of 2 MB at 8 parallel. */
export async function measurePeak(n: number, runs: number) {
  const peaks: number[] = [];
  for (let i = 0; i < runs; i++) {
    await using fake = startFakeGemini({ imageBytes: 2_000_000 });
    const run = await runGenerator(fake.url, { items: n, concurrency: 8 });
    peaks.push(run.peakRssKb ?? NaN);
    print(
      `  N=${n}: ${run.succeeded} saved, ${run.failed} failed, wall ${
        ms(run.wallMs)
      }, peak ${mb(run.peakRssKb ?? NaN)}`,
    );
  }
  return peaks;
}

/** Wall / ⌈N/C⌉·L for N=200, C=8, L=250 ms, `runs` times. */
export async function measureThroughput(runs: number) {
  const ratios: number[] = [];
  for (let i = 0; i < runs; i++) {
    await using fake = startFakeGemini({ latencyMs: 250 });
    const run = await runGenerator(fake.url, { items: 200, concurrency: 8 });
    ratios.push(run.wallMs / (Math.ceil(200 / 8) * 250));
  }
  return ratios;
}

/** "min a / median b / max c" of `xs`. */
export function spread(xs: number[], f: (x: number) => string): string {
  return stats(xs, f);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "3" },
      big: { type: "string", default: "200,1000" },
      skip: { type: "string", default: "" },
    },
  });
  const runs = Number(values.runs);
  const skip = new Set(values.skip.split(",").filter(Boolean));
  if (!skip.has("start")) {
    const start = await measureStart(Math.max(runs, 3));
    print(`spawn → first request: ${stats(start.ms, ms)} (≤ 150 ms)`);
    print(`RSS before the first request: ${stats(start.rssKb, mb)} (≤ 60 MB)`);
  }
  for (const n of values.big.split(",").filter(Boolean).map(Number)) {
    const peaks = await measurePeak(n, n > 200 ? 1 : runs);
    print(
      `peak RSS, ${n} images of 2 MB at 8 parallel: ${
        stats(peaks, mb)
      } (≤ 100 MB)`,
    );
  }
  if (!skip.has("throughput")) {
    const ratios = await measureThroughput(runs);
    print(
      `throughput N=200 C=8 L=250 ms, wall / ideal: ${
        stats(ratios, (x) => x.toFixed(3))
      } (≤ 1.05)`,
    );
  }
}
