/**
 * History with 10,000 batches (design.md §11: < 50 ms server time): fills a
 * temp file database through the real queries, then times GET /history.
 * Prints figures; never fails. Run: deno run -A bench/history.ts
 * Or: import { measureHistorySearch } and call it.
 */
import { createApp } from "../app.ts";
import { loadConfig } from "../config.ts";
import { openDb } from "../db/client.ts";
import { spawnGenerator } from "../engine/runner.ts";
import { ActiveRuns } from "../engine/active_runs.ts";
import { checkKey } from "../engine/key_check.ts";
import { createLogger } from "../lib/log.ts";
import { storeNewBatch } from "../engine/batches.ts";
import { buildBatch } from "../core/batch_plan.ts";
import { workspaceIdOf } from "../http/middleware/workspace.ts";

const BATCHES = 10_000;

/** Median and 95th percentile of one page's server time, in ms. */
export interface PageTimes {
  median: number;
  p95: number;
}

/** What `measureHistorySearch` saw. */
export interface HistorySearch {
  batches: number;
  fillMs: number;
  /** GET /history, the first page of 20. */
  page: PageTimes;
  /** GET /history?q=…, a prompt search that matches one batch. */
  search: PageTimes;
}

/** Fills a temp database with `batches` batches and times History on it. */
export async function measureHistorySearch(
  batches = BATCHES,
): Promise<HistorySearch> {
  const dataDir = await Deno.makeTempDir({ prefix: "batchgen-history-" });
  const config = loadConfig({ BATCHGEN_DATA_DIR: dataDir });
  const { db, close } = await openDb(config.databaseUrl);
  try {
    const app = createApp({
      db,
      config,
      log: createLogger(() => {}),
      activeRuns: new ActiveRuns(),
      spawn: spawnGenerator,
      checkKey,
    });
    const first = await app.request("http://127.0.0.1/history", {}, {
      remoteAddr: { hostname: "127.0.0.1" },
    });
    await first.text();
    const cookie = first.headers.get("set-cookie")!.split(";")[0]!;
    const workspaceId = await workspaceIdOf(cookie.split("=")[1]!);

    const fill = performance.now();
    for (let i = 0; i < batches; i++) {
      const plan = buildBatch({
        title: `batch ${i}`,
        prompts: [`a lighthouse number ${i}`, `a harbour at dusk ${i}`],
        model: "gemini-nano-banana-2.1",
        aspectRatio: "1:1",
        imageSize: "1K",
        imagesPerPrompt: 2,
      }, { defaultConcurrency: 4 });
      if (!plan.ok) throw new Error(plan.problem.message);
      await storeNewBatch(db, workspaceId, plan.value);
    }
    const fillMs = performance.now() - fill;

    const time = async (path: string, runs = 20): Promise<PageTimes> => {
      // One untimed request first: the first query compiles its plan.
      await (await app.request(`http://127.0.0.1${path}`, {
        headers: { cookie },
      }, {
        remoteAddr: { hostname: "127.0.0.1" },
      })).text();
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const start = performance.now();
        const response = await app.request(`http://127.0.0.1${path}`, {
          headers: { cookie },
        }, {
          remoteAddr: { hostname: "127.0.0.1" },
        });
        await response.text();
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      return {
        median: times[Math.floor(runs / 2)]!,
        p95: times[Math.floor(runs * 0.95)]!,
      };
    };

    const page = await time("/history");
    const search = await time(
      `/history?q=${encodeURIComponent(`lighthouse number ${batches - 1}`)}`,
    );
    return { batches, fillMs, page, search };
  } finally {
    close();
    await Deno.remove(dataDir, { recursive: true });
  }
}

if (import.meta.main) {
  const r = await measureHistorySearch();
  const out = [
    `History with ${r.batches} batches (${
      r.batches * 4
    } items), file database, Deno ${Deno.version.deno}`,
    `  filled in ${(r.fillMs / 1000).toFixed(1)} s`,
    `  GET /history (first page of 20): median ${
      r.page.median.toFixed(1)
    } ms, p95 ${r.page.p95.toFixed(1)} ms (target < 50 ms)`,
    `  GET /history?q=… (prompt search): median ${
      r.search.median.toFixed(1)
    } ms, p95 ${r.search.p95.toFixed(1)} ms`,
  ];
  await Deno.stdout.write(new TextEncoder().encode(out.join("\n") + "\n"));
}
