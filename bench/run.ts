/**
 * `deno task bench`: throughput, rate-limit and memory figures of the engine
 * (design.md §11) against the fake Gemini on loopback. Prints figures and a
 * final table; never asserts, always exits 0.
 *
 *   deno run -A bench/run.ts           full run (about 5 minutes)
 *   deno run -A bench/run.ts --quick   scaled-down smoke run (about 30 s)
 *
 * Throughput and rate limit run the real generator child (spawnGenerator)
 * directly; memory runs the real server (main.ts) as a subprocess, driven
 * through the JSON API, and reads peak RSS (VmHWM) from /proc.
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../config.ts";
import { startFakeGemini } from "../tests/fake_gemini.ts";
import { runGenerator } from "./_generator.ts";
import { childPids, memorySampler } from "./_proc.ts";
import { measureCancel, runThroughServer, startServer } from "./_server.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: { quick: { type: "boolean", default: false } },
});
const quick = flags.quick;

interface Row {
  figure: string;
  measured: string;
  target: string;
  met?: boolean;
}
const table: Row[] = [];

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (kb: number | undefined) =>
  kb === undefined ? "n/a" : `${(kb / 1024).toFixed(0)} MB`;
// deno-lint-ignore no-console
const print = (line = "") => console.log(line);

async function throughput() {
  const n = quick ? 40 : 200;
  const c = 8;
  const latency = 250;
  print(`## Throughput: N=${n}, concurrency ${c}, fake latency ${latency} ms`);
  await using fake = startFakeGemini({ latencyMs: latency });
  const run = await runGenerator(fake.url, { items: n, concurrency: c });
  const ideal = Math.ceil(n / c) * latency;
  const ratio = run.wallMs / ideal;
  print(
    `  concurrency ${c}: wall ${s(run.wallMs)} (from the generator's ` +
      `"started"), ideal ⌈N/C⌉×L = ${s(ideal)}, ratio ${ratio.toFixed(3)}; ` +
      `start-up ${s(run.startupMs)}; ${run.succeeded} saved, ` +
      `${run.failed} failed; max in flight ${fake.stats().maxInFlight}; ` +
      `generator peak RSS ${mb(run.peakRssKb)}`,
  );
  table.push({
    figure: `throughput N=${n} C=${c} L=${latency}ms: wall / ideal`,
    measured: `${ratio.toFixed(3)} (${s(run.wallMs)} vs ${s(ideal)})`,
    target: "≤ 1.10",
    met: ratio <= 1.10 && run.failed === 0,
  });
  table.push({
    figure: "generator start-up (spawn → started)",
    measured: s(run.startupMs),
    target: "reported",
  });

  await using fake1 = startFakeGemini({ latencyMs: latency });
  const seq = await runGenerator(fake1.url, { items: n, concurrency: 1 });
  print(
    `  concurrency 1 (naive sequential): wall ${s(seq.wallMs)}, ` +
      `N×L = ${s(n * latency)}, ratio ${
        (seq.wallMs / (n * latency)).toFixed(3)
      }; ` +
      `speed-up of C=${c}: ${(seq.wallMs / run.wallMs).toFixed(2)}×`,
  );
  table.push({
    figure: `sequential N=${n} C=1: wall (N×L = ${s(n * latency)})`,
    measured: `${s(seq.wallMs)} (C=${c} is ${
      (seq.wallMs / run.wallMs).toFixed(1)
    }× faster)`,
    target: "reference",
  });
}

async function rateLimit(c: number, note: string) {
  const n = quick ? 20 : 120;
  const perWindow = quick ? 10 : 60;
  const windowMs = quick ? 10_000 : 60_000;
  const latency = 250;
  const rate = `${perWindow}/${windowMs / 1000}s`;
  print();
  print(
    `## Rate limit: N=${n}, fake limit ${rate} (rolling window, 429 + ` +
      `RetryInfo), concurrency ${c} (${note}), latency ${latency} ms`,
  );
  await using fake = startFakeGemini({
    latencyMs: latency,
    rateLimitPerMinute: perWindow,
    rateWindowMs: windowMs,
  });
  const run = await runGenerator(fake.url, { items: n, concurrency: c });
  const stats = fake.stats();
  const limited = stats.byStatus[429] ?? 0;
  const budgetMs = (n / perWindow) * windowMs;
  const ratio = run.wallMs / budgetMs;
  const share = limited / stats.generate;
  print(
    `  wall ${s(run.wallMs)}, N/R = ${s(budgetMs)}, ratio ${
      ratio.toFixed(3)
    }; ` +
      `${stats.generate} requests, ${limited} answered 429 ` +
      `(${(share * 100).toFixed(1)} %); ${run.succeeded} saved, ` +
      `${run.failed} failed; ${run.rateLimitedEvents} rate-limited events`,
  );
  table.push({
    figure: `rate limit N=${n} R=${rate} C=${c}: wall / (N/R)`,
    measured: `${ratio.toFixed(3)} (${s(run.wallMs)} vs ${s(budgetMs)})`,
    target: "≤ 1.15",
    met: ratio <= 1.15,
  });
  table.push({
    figure: `rate limit C=${c}: share of requests answered 429`,
    measured: `${(share * 100).toFixed(1)} % (${limited}/${stats.generate})`,
    target: "< 5 %",
    met: share < 0.05,
  });
  table.push({
    figure: `rate limit C=${c}: failed items`,
    measured: String(run.failed),
    target: "0",
    met: run.failed === 0,
  });
}

async function memory() {
  const sizes = quick ? [10, 40] : [50, 200, 1000];
  const imageBytes = 2_000_000;
  const c = 8;
  print();
  print(
    `## Memory: server (main.ts) + generator child, images of ~${
      imageBytes / 1e6
    } MB, concurrency ${c}, through the JSON API`,
  );
  await using fake = startFakeGemini({ latencyMs: 100, imageBytes });
  for (const n of sizes) {
    const server = await startServer(fake.url, c);
    const generators = new Set<number>();
    const sampler = memorySampler(() => {
      for (const pid of childPids(server.pid, "__generator")) {
        generators.add(pid);
      }
      return [server.pid, ...generators];
    });
    const result = await runThroughServer(server, n);
    const { peaks, medians } = sampler.stop();
    await server.stop();
    // One run spawns one generator; take the largest should there be more.
    const generator = [...generators].sort((a, b) =>
      (peaks.get(b) ?? 0) - (peaks.get(a) ?? 0)
    )[0] ?? -1;
    const figures = (pid: number) =>
      `${mb(peaks.get(pid))} (median ${mb(medians.get(pid))})`;
    print(
      `  N=${n}: ${result.status}, ${result.succeeded} saved in ${
        s(result.wallMs)
      }; peak RSS server ${figures(server.pid)}, generator ${
        figures(generator)
      }`,
    );
    table.push({
      figure: `RSS N=${n} × 2 MB: server / generator, peak (median)`,
      measured: `${figures(server.pid)} / ${figures(generator)}`,
      target: "flat in N",
    });
  }
  print(
    "  (peak = VmHWM, median = median VmRSS while the batch ran; both " +
      "include the JS heap V8 lets grow before a full GC. Images go from " +
      "the generator straight to disk, never through the server.)",
  );
}

async function cancel() {
  const latency = 2000;
  print();
  print(
    `## Cancel: server (main.ts), 40 items, concurrency 8, fake latency ` +
      `${latency} ms; POST /api/batches/:id/cancel after the first saved image`,
  );
  await using fake = startFakeGemini({ latencyMs: latency });
  const server = await startServer(fake.url, 8);
  try {
    const result = await measureCancel(server, 40);
    const gone = result.generatorGoneMs === undefined
      ? "not seen"
      : `${Math.round(result.generatorGoneMs)} ms`;
    print(
      `  stream ended ${Math.round(result.streamEndMs)} ms after Cancel; ` +
        `generator process gone after ${gone}; batch ${result.status} ` +
        `with ${result.saved} saved`,
    );
    table.push({
      figure: "cancel → generator gone / NDJSON stream ended",
      measured: `${gone} / ${Math.round(result.streamEndMs)} ms`,
      target: "< 1 s",
      met: result.streamEndMs < 1000 && result.generatorGoneMs !== undefined &&
        result.generatorGoneMs < 1000,
    });
  } finally {
    await server.stop();
  }
}

function printTable() {
  print();
  print("## Summary");
  const head = ["figure", "measured", "target", ""];
  const rows = table.map((r) => [
    r.figure,
    r.measured,
    r.target,
    r.met === undefined ? "" : quick ? "(smoke)" : r.met ? "met" : "MISSED",
  ]);
  const widths = head.map((_, i) =>
    Math.max(head[i]!.length, ...rows.map((r) => r[i]!.length))
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ")} |`;
  print(line(head));
  print(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const row of rows) print(line(row));
}

print(
  `BatchGen bench${quick ? " (--quick)" : ""}: Deno ${Deno.version.deno}, ` +
    `${navigator.hardwareConcurrency} CPUs, ${
      (Deno.systemMemoryInfo().total / 2 ** 30).toFixed(0)
    } GiB RAM, fake Gemini on 127.0.0.1`,
);
print();
const defaultConcurrency = loadConfig({}).concurrency;
const parts: [string, () => Promise<void>][] = [
  ["throughput", throughput],
  ["rate limit", () => rateLimit(defaultConcurrency, "BatchGen's default")],
  ["rate limit", () => rateLimit(8, "all 8 in flight meet the first 429")],
  ["memory", memory],
  ["cancel", cancel],
];
for (const [name, part] of parts) {
  try {
    await part();
  } catch (error) {
    print(`  ${name} could not run: ${String(error)}`);
  }
}
printTable();
Deno.exit(0);
