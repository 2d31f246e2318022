/**
 * `deno task bench`: the engine's figures (design.md §11, issue #13) against
 * the fake Gemini on loopback, each printed next to its target with the
 * scenario that produced it, then one summary table. Never asserts, always
 * exits 0.
 *
 *   deno run -A bench/run.ts           full run (about 20 minutes)
 *   deno run -A bench/run.ts --quick   scaled-down smoke run (about 1 minute)
 *
 * The lean-generator figures run the real generator child (spawnGenerator)
 * directly; quota, memory, cancel and many batches run the real server
 * (main.ts) as a subprocess driven through the JSON API and read RSS from
 * /proc; history search times the app in process on a filled database.
 */
import { parseArgs } from "node:util";
import { startFakeGemini } from "../tests/fake_gemini.ts";
import {
  measurePeak,
  measureStart,
  measureThroughput,
  spread,
} from "./lean.ts";
import { quotaSection } from "./quota.ts";
import { manyBatchesSection } from "./many_batches.ts";
import {
  createReport,
  mb,
  median,
  ms,
  printTable,
  ratio3,
  s,
} from "./_report.ts";
import { childPids, memorySampler } from "./_proc.ts";
import { measureCancel, runThroughServer, startServer } from "./_server.ts";

const { values: flags } = parseArgs({
  args: Deno.args,
  options: { quick: { type: "boolean", default: false } },
});

const report = createReport(flags.quick);
const quick = report.quick;
const print = report.print;

const RUNS = quick ? 1 : 3;

async function lean() {
  print(`## The generator: start-up, memory, throughput (${RUNS} runs each)`);
  const start = await measureStart(Math.max(RUNS, 3));
  print(`  spawn → first request: ${spread(start.ms, ms)}`);
  print(`  generator RSS before its first request: ${spread(start.rssKb, mb)}`);
  report.add({
    figure: "spawn → first request (stub answer, one small image)",
    measured: spread(start.ms, ms),
    target: "≤ 150 ms",
    met: median(start.ms) <= 150,
  });
  report.add({
    figure: "generator RSS before its first request",
    measured: spread(start.rssKb, mb),
    target: "≤ 60 MB",
    met: median(start.rssKb) <= 60 * 1024,
  });
  for (const n of quick ? [40] : [200, 1000]) {
    const peaks = await measurePeak(n, n > 200 ? 1 : RUNS);
    print(`  peak RSS, ${n} images: ${spread(peaks, mb)}`);
    report.add({
      figure: `generator peak RSS, ${n} images of 2 MB, 8 parallel`,
      measured: spread(peaks, mb),
      target: "≤ 100 MB",
      met: Math.max(...peaks) <= 100 * 1024,
    });
  }
  const ratios = await measureThroughput(RUNS);
  print(`  throughput, wall / ⌈N/C⌉·L: ${spread(ratios, ratio3)}`);
  report.add({
    figure: "throughput N=200 C=8 L=250 ms: wall / ⌈N/C⌉·L",
    measured: spread(ratios, ratio3),
    target: "≤ 1.05",
    met: median(ratios) <= 1.05,
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
    report.add({
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
    report.add({
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

print(
  `BatchGen bench${quick ? " (--quick)" : ""}: Deno ${Deno.version.deno}, ` +
    `${navigator.hardwareConcurrency} CPUs, ${
      (Deno.systemMemoryInfo().total / 2 ** 30).toFixed(0)
    } GiB RAM, fake Gemini on 127.0.0.1`,
);
print();
const parts: [string, () => Promise<void>][] = [
  ["generator", lean],
  ["quota", () => quotaSection(report)],
  ["memory", memory],
  ["cancel", cancel],
  ["many batches", () => manyBatchesSection(report)],
];
for (const [name, part] of parts) {
  try {
    await part();
  } catch (error) {
    print(`  ${name} could not run: ${String(error)}`);
  }
}
printTable(report);
Deno.exit(0);
