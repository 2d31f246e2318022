/**
 * GET /history while N small batches run at once on the real server (each in
 * its own workspace, started together), against the fake at a fixed latency.
 * Prints p50/p99 of the page; never fails.
 * Run: deno run -A bench/history_load.ts [N…]  (default: 20 50)
 */
import { startFakeGemini } from "../tests/fake_gemini.ts";
import { BENCH_KEY } from "./_proc.ts";
import { startServer } from "./_server.ts";

const LATENCY_MS = 2_000;
const IMAGES = 4;
const CONCURRENCY = 2;

async function measure(n: number) {
  await using fake = startFakeGemini({ latencyMs: LATENCY_MS });
  const server = await startServer(fake.url, CONCURRENCY);
  try {
    const first = await fetch(`${server.url}/history`);
    await first.text();
    const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
    let running = n;
    let failed = 0;
    const startedAt = performance.now();
    const batches = Array.from({ length: n }, async (_, b) => {
      const created = await fetch(`${server.url}/api/batches`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          prompts: Array.from(
            { length: IMAGES },
            (_, i) => `load ${b} prompt ${i}`,
          ),
          model: "gemini-nano-banana-2.1",
          concurrency: CONCURRENCY,
        }),
      });
      const own = created.headers.get("set-cookie")!.split(";")[0]!;
      const { id } = await created.json();
      const run = await fetch(`${server.url}/api/batches/${id}/run`, {
        method: "POST",
        headers: { cookie: own, "x-goog-api-key": BENCH_KEY },
      });
      const text = await run.text();
      if (!run.ok || !text.includes('"done"')) failed++;
      running--;
    });
    const times: number[] = [];
    const sampler = (async () => {
      while (running > 0) {
        const t = performance.now();
        const response = await fetch(`${server.url}/history`, {
          headers: { cookie },
        });
        await response.text();
        times.push(performance.now() - t);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await Promise.all(batches);
    const wallMs = performance.now() - startedAt;
    await sampler;
    times.sort((a, b) => a - b);
    const at = (q: number) =>
      times[Math.min(times.length - 1, Math.floor(times.length * q))]!;
    return {
      n,
      samples: times.length,
      p50: at(0.5),
      p99: at(0.99),
      max: times.at(-1)!,
      wallMs,
      failed,
      generated: fake.stats().generate,
    };
  } finally {
    await server.stop();
  }
}

const counts = Deno.args.length ? Deno.args.map(Number) : [20, 50];
for (const n of counts) {
  const r = await measure(n);
  await Deno.stdout.write(new TextEncoder().encode(
    `${n} batches × ${IMAGES} images (C=${CONCURRENCY}, fake latency ${LATENCY_MS} ms, started at once): ` +
      `GET /history p50 ${r.p50.toFixed(1)} ms, p99 ${
        r.p99.toFixed(1)
      } ms, max ${r.max.toFixed(1)} ms over ${r.samples} samples; wall ${
        (r.wallMs / 1000).toFixed(1)
      } s; ${r.failed} runs not done; ${r.generated} requests\n`,
  ));
}
