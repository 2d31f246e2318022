/**
 * GET /history while N small batches run at once on the real server (each in
 * its own workspace, from its own client address, started together), against
 * the fake at a fixed latency. Never fails.
 *
 * Each batch is a different client: the server trusts a proxy
 * (BATCHGEN_TRUST_PROXY=1) and every batch sends its own X-Forwarded-For, so
 * the per-address limits (30 run starts, 60 new batches a minute) do not
 * refuse a bench of one machine's many users; BATCHGEN_MAX_RUNNING is set
 * to N (up to its limit), so the instance cap does not either. Any refusal
 * is counted by its problem code and printed.
 *
 * Run: deno run -A bench/history_load.ts [N…]  (default: 20 50)
 * Or: import { measureHistoryLoad } and call it.
 */
import { startFakeGemini } from "../tests/fake_gemini.ts";
import { LIMITS } from "../core/limits.ts";
import { BENCH_KEY, childPids, procStatusKb } from "./_proc.ts";
import { startServer } from "./_server.ts";

const LATENCY_MS = 2_000;
const IMAGES = 4;
const CONCURRENCY = 2;
const MEMORY_EVERY_MS = 1_000;

/** What one `measureHistoryLoad(n)` saw; times in ms, memory in kB. */
export interface HistoryLoad {
  n: number;
  /** GET /history while the batches ran. */
  p50: number;
  p99: number;
  max: number;
  samples: number;
  /** Runs the server refused (not started), and why: problem code → count. */
  refused: number;
  refusals: Record<string, number>;
  /** Runs started that did not end "done" with every image. */
  failed: number;
  /** From the first run start to the last run's end. */
  wallMs: number;
  /** From a run's start request to its first saved image (started runs). */
  firstImage: { p50: number; max: number };
  /** Most generator processes seen at once, and their summed RSS then. */
  generatorsPeak: number;
  generatorsRssKb: number;
  /** Median per-generator RSS over the samples, and the highest VmHWM seen. */
  generatorRssMedianKb: number;
  generatorPeakKb: number;
  /** The server process's peak resident set. */
  serverPeakKb: number;
  /** Image requests the fake answered. */
  generated: number;
  maxRunning: number;
  images: number;
}

/** A client address per batch (10.x.y.z); the sampler has its own. */
function clientAddress(index: number): string {
  return `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
}

/** Runs N batches at once through the real server and times GET /history. */
export async function measureHistoryLoad(
  n: number,
  {
    latencyMs = LATENCY_MS,
    images = IMAGES,
    concurrency = CONCURRENCY,
    serverFlags = [] as string[],
  } = {},
): Promise<HistoryLoad> {
  await using fake = startFakeGemini({ latencyMs });
  const maxRunning = Math.max(1, Math.min(n, LIMITS.maxRunning));
  const server = await startServer(fake.url, concurrency, {
    BATCHGEN_TRUST_PROXY: "1",
    BATCHGEN_MAX_RUNNING: String(maxRunning),
  }, serverFlags);
  const proxied = (index: number) => ({
    "x-forwarded-for": clientAddress(index),
    "x-forwarded-proto": "https",
  });
  try {
    const samplerHeaders = proxied(0xffffff);
    const first = await fetch(`${server.url}/history`, {
      headers: samplerHeaders,
    });
    await first.text();
    const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
    // Every batch created first: the measurement is of runs, not of forms.
    const created = await Promise.all(
      Array.from({ length: n }, async (_, b) => {
        const response = await fetch(`${server.url}/api/batches`, {
          method: "POST",
          headers: { "content-type": "application/json", ...proxied(b + 1) },
          body: JSON.stringify({
            prompts: Array.from(
              { length: images },
              (_, i) => `load ${b} prompt ${i}`,
            ),
            model: "gemini-nano-banana-2.1",
            concurrency,
          }),
        });
        const own = response.headers.get("set-cookie")?.split(";")[0] ?? "";
        const body = await response.json();
        return response.ok
          ? { ok: true as const, id: String(body.id), cookie: own }
          : {
            ok: false as const,
            refused: `create: ${body.error?.code ?? response.status}`,
          };
      }),
    );
    let running = n;
    let failed = 0;
    const refusals: Record<string, number> = {};
    const firstImages: number[] = [];
    const startedAt = performance.now();
    const batches = created.map(async (batch, b) => {
      try {
        if (!batch.ok) {
          refusals[batch.refused] = (refusals[batch.refused] ?? 0) + 1;
          return;
        }
        const t0 = performance.now();
        const run = await fetch(`${server.url}/api/batches/${batch.id}/run`, {
          method: "POST",
          headers: {
            cookie: batch.cookie,
            "x-goog-api-key": BENCH_KEY,
            ...proxied(b + 1),
          },
        });
        if (!run.ok) {
          const body = await run.json().catch(() => ({}));
          const code = `run: ${body.error?.code ?? run.status}`;
          refusals[code] = (refusals[code] ?? 0) + 1;
          return;
        }
        let text = "";
        let sawImage = false;
        for await (
          const chunk of run.body!.pipeThrough(new TextDecoderStream())
        ) {
          text += chunk;
          if (!sawImage && text.includes('"image-saved"')) {
            sawImage = true;
            firstImages.push(performance.now() - t0);
          }
        }
        const last = JSON.parse(
          text.split("\n").filter(Boolean).at(-1) ?? "{}",
        );
        if (
          last.batch?.status !== "done" ||
          last.batch?.counts?.succeeded !== images
        ) failed++;
      } finally {
        running--;
      }
    });
    const worker = new Worker(
      new URL("./_page_sampler.ts", import.meta.url),
      { type: "module" },
    );
    const sampled = new Promise<number[]>((resolve) => {
      worker.onmessage = (message: MessageEvent<number[]>) =>
        resolve(message.data);
    });
    worker.postMessage({
      url: `${server.url}/history`,
      headers: { cookie, ...samplerHeaders },
      everyMs: 50,
    });
    let generatorsPeak = 0;
    let generatorsRssKb = 0;
    let generatorPeakKb = 0;
    const rssSamples: number[] = [];
    const memory = setInterval(() => {
      const pids = childPids(server.pid, "__generator");
      let sum = 0;
      for (const pid of pids) {
        const rss = procStatusKb(pid, "VmRSS");
        if (rss === undefined) continue;
        sum += rss;
        rssSamples.push(rss);
        generatorPeakKb = Math.max(
          generatorPeakKb,
          procStatusKb(pid, "VmHWM") ?? 0,
        );
      }
      if (pids.length > generatorsPeak) {
        generatorsPeak = pids.length;
        generatorsRssKb = sum;
      }
    }, MEMORY_EVERY_MS);
    await Promise.all(batches);
    const wallMs = performance.now() - startedAt;
    clearInterval(memory);
    worker.postMessage("stop");
    const times = await sampled;
    const serverPeakKb = procStatusKb(server.pid, "VmHWM") ?? 0;
    times.sort((a, b) => a - b);
    firstImages.sort((a, b) => a - b);
    rssSamples.sort((a, b) => a - b);
    return {
      n,
      p50: quantile(times, 0.5),
      p99: quantile(times, 0.99),
      max: times.at(-1) ?? NaN,
      samples: times.length,
      refused: Object.values(refusals).reduce((a, b) => a + b, 0),
      refusals,
      failed,
      wallMs,
      firstImage: {
        p50: quantile(firstImages, 0.5),
        max: firstImages.at(-1) ?? NaN,
      },
      generatorsPeak,
      generatorsRssKb,
      generatorRssMedianKb: quantile(rssSamples, 0.5),
      generatorPeakKb,
      serverPeakKb,
      generated: fake.stats().generate,
      maxRunning,
      images,
    };
  } finally {
    await server.stop();
  }
}

/** One line per measurement, as the CLI prints it. */
export function formatHistoryLoad(r: HistoryLoad): string {
  const mb = (kb: number) => (kb / 1024).toFixed(0);
  const refusals = Object.entries(r.refusals).map(([code, count]) =>
    `${count} ${code}`
  ).join(", ");
  return `${r.n} batches × ${r.images} images (C=${CONCURRENCY}, fake latency ${LATENCY_MS} ms, started at once, BATCHGEN_MAX_RUNNING=${r.maxRunning}): ` +
    `GET /history p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, ` +
    `max ${r.max.toFixed(1)} ms over ${r.samples} samples; wall ${
      (r.wallMs / 1000).toFixed(1)
    } s; first image p50 ${(r.firstImage.p50 / 1000).toFixed(1)} s, max ${
      (r.firstImage.max / 1000).toFixed(1)
    } s; ${r.generatorsPeak} generators at once (${
      mb(r.generatorsRssKb)
    } MB RSS together, ${mb(r.generatorRssMedianKb)} MB median each, peak ${
      mb(r.generatorPeakKb)
    } MB), server peak ${mb(r.serverPeakKb)} MB; ` +
    `${r.refused} runs refused${
      refusals ? ` (${refusals})` : ""
    }; ${r.failed} runs not done; ${r.generated} requests`;
}

if (import.meta.main) {
  // BENCH_SERVER_FLAGS: extra `deno run` flags for the server, e.g.
  // "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const serverFlags = (Deno.env.get("BENCH_SERVER_FLAGS") ?? "").split(/\s+/)
    .filter(Boolean);
  // BENCH_IMAGES: images per batch (default 4); longer batches keep every
  // generator alive at once.
  const images = Number(Deno.env.get("BENCH_IMAGES") ?? IMAGES);
  const counts = Deno.args.length ? Deno.args.map(Number) : [20, 50];
  for (const n of counts) {
    const r = await measureHistoryLoad(n, { serverFlags, images });
    await Deno.stdout.write(
      new TextEncoder().encode(formatHistoryLoad(r) + "\n"),
    );
  }
}
