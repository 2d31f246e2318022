/**
 * Many batches on one box (issue 13 part 4): GET /history while hundreds of
 * batches run through the real server, and history search on 10,000
 * batches, idle and on a busy box.
 */
import { formatHistoryLoad, measureHistoryLoad } from "./history_load.ts";
import { measureHistorySearch } from "./history.ts";
import type { Report } from "./_report.ts";

/** Two busy loops, one per core, while `work` runs: a busy box. */
async function onBusyBox<T>(work: () => Promise<T>): Promise<T> {
  const burners = [0, 1].map(() =>
    new Deno.Command(Deno.execPath(), {
      args: ["eval", "while (true) {}"],
      stdout: "null",
      stderr: "null",
    }).spawn()
  );
  try {
    return await work();
  } finally {
    for (const burner of burners) {
      burner.kill("SIGKILL");
      await burner.status;
    }
  }
}

/** GET /history under many batches, and history search, into `report`. */
export async function manyBatchesSection(report: Report) {
  const loads = report.quick ? [{ n: 20, images: 4 }] : [
    { n: 100, images: 16 },
    { n: 200, images: 16 },
    { n: 200, images: 40 },
  ];
  for (const { n, images } of loads) {
    report.print();
    report.print(
      `## Many batches: ${n} batches × ${images} images started at once, each its own workspace and client, C=2, fake latency 2 s; GET /history sampled every 50 ms`,
    );
    const r = await measureHistoryLoad(n, { images });
    report.print(`  ${formatHistoryLoad(r)}`);
    report.add({
      figure:
        `GET /history p99, ${n} batches × ${images} images started at once (${r.generatorsPeak} generators alive at the peak)`,
      measured: `${r.p99.toFixed(0)} ms (p50 ${
        r.p50.toFixed(1)
      } ms, ${r.samples} samples; ${r.refused} refused, ${r.failed} not done)`,
      target: "< 100 ms",
      met: r.p99 < 100 && r.refused === 0 && r.failed === 0,
    });
  }
  const batches = report.quick ? 1_000 : 10_000;
  for (const busy of [false, true]) {
    report.print();
    report.print(
      `## History search: ${batches} batches in a file database${
        busy ? ", both cores kept busy by two other processes" : ""
      }; server time through app.request`,
    );
    const r = busy
      ? await onBusyBox(() => measureHistorySearch(batches))
      : await measureHistorySearch(batches);
    report.print(
      `  first page median ${r.page.median.toFixed(1)} ms, p95 ${
        r.page.p95.toFixed(1)
      } ms; search median ${r.search.median.toFixed(1)} ms, p95 ${
        r.search.p95.toFixed(1)
      } ms`,
    );
    report.add({
      figure: `history search, ${batches} batches${busy ? ", busy box" : ""}`,
      measured: `median ${r.search.median.toFixed(1)} ms, p95 ${
        r.search.p95.toFixed(1)
      } ms (first page ${r.page.median.toFixed(1)} ms)`,
      target: "≤ 50 ms",
      met: r.search.p95 <= 50,
    });
  }
}
