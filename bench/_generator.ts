/**
 * Runs the real generator child (spawnGenerator) on a built job against the
 * fake Gemini and measures start-up, wall time and peak RSS. Never asserts.
 */
import { spawnGenerator } from "../engine/runner.ts";
import type { GeneratorEvent, Job } from "../core/protocol.ts";
import { BENCH_KEY, denoEnv, memorySampler } from "./_proc.ts";

/** What one generator run measured. */
export interface GeneratorRunResult {
  /** Spawn → `started` event (Deno start-up, module load, job read). */
  startupMs: number;
  /** `started` → `done` (or the end of the event stream). */
  wallMs: number;
  succeeded: number;
  failed: number;
  rateLimitedEvents: number;
  /** Peak RSS of the generator child, kB (VmHWM), when it could be read. */
  peakRssKb?: number;
  exitCode: number;
}

/** Runs the real generator child on `items` prompts against `baseUrl`. */
export async function runGenerator(
  baseUrl: string,
  { items, concurrency, maxAttempts = 4, timeoutMs = 120_000 }: {
    items: number;
    concurrency: number;
    maxAttempts?: number;
    timeoutMs?: number;
  },
): Promise<GeneratorRunResult> {
  const outputDir = await Deno.makeTempDir({ prefix: "batchgen-bench-" });
  const job: Job = {
    batchId: "bench",
    model: "gemini-nano-banana-2.1",
    aspectRatio: "1:1",
    imageSize: "1K",
    concurrency,
    outputDir,
    timeoutMs,
    maxAttempts,
    items: Array.from({ length: items }, (_, i) => ({
      itemId: `item-${i}`,
      position: i,
      imageIndex: 0,
      prompt: `a bench prompt number ${i}`,
    })),
  };
  const spawnedAt = performance.now();
  const run = spawnGenerator(job, {
    apiKey: BENCH_KEY,
    apiBaseUrl: baseUrl,
    baseEnv: denoEnv(),
  });
  const sampler = memorySampler(() => [run.pid]);
  let startedAt = NaN;
  let endedAt = NaN;
  let succeeded = 0;
  let failed = 0;
  let rateLimitedEvents = 0;
  for await (const event of run.events as AsyncIterable<GeneratorEvent>) {
    if (event.type === "started") startedAt = performance.now();
    if (event.type === "image-saved") succeeded++;
    if (event.type === "item-failed") failed++;
    if (event.type === "rate-limited") rateLimitedEvents++;
    if (event.type === "done") endedAt = performance.now();
  }
  if (Number.isNaN(endedAt)) endedAt = performance.now();
  const exitCode = await run.exited;
  const { peaks } = sampler.stop();
  await Deno.remove(outputDir, { recursive: true }).catch(() => {});
  return {
    startupMs: startedAt - spawnedAt,
    wallMs: endedAt - startedAt,
    succeeded,
    failed,
    rateLimitedEvents,
    peakRssKb: peaks.get(run.pid),
    exitCode,
  };
}
