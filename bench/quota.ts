/**
 * Quota scenarios (issue #13, part 1): batches run through the real server
 * (main.ts) against a fake whose request quotas are sliding windows shared
 * by every caller, answering 429 with QuotaFailure and RetryInfo the way
 * Google does. Several batches of one workspace share one limit. Measures
 * wall time against N/R, the share of requests answered 429 and the failed
 * items. Never asserts.
 */
import { startFakeGemini } from "../tests/fake_gemini.ts";
import { createBatch, startRun, startServer } from "./_server.ts";
import { ratio3, type Report, s } from "./_report.ts";

export interface QuotaScenario {
  name: string;
  quotas: { limit: number; windowMs: number }[];
  batches: number;
  imagesPerBatch: number;
  concurrency: number;
  latencyMs: number;
}

export interface QuotaResult {
  images: number;
  /** N / R at the slowest quota, ms. */
  budgetMs: number;
  /** First run request → last stream end, ms. */
  wallMs: number;
  requests: number;
  answered429: number;
  saved: number;
  failed: number;
}

/** The slowest quota's rate, requests per ms. */
export function bindingRate(quotas: QuotaScenario["quotas"]): number {
  return Math.min(...quotas.map((q) => q.limit / q.windowMs));
}

/** Runs `scenario`'s batches at once in one workspace and measures them. */
export async function measureQuota(
  scenario: QuotaScenario,
): Promise<QuotaResult> {
  await using fake = startFakeGemini({
    latencyMs: scenario.latencyMs,
    quotas: scenario.quotas,
  });
  const server = await startServer(fake.url, scenario.concurrency);
  try {
    const first = await createBatch(server, scenario.imagesPerBatch);
    const batches = [first];
    for (let b = 1; b < scenario.batches; b++) {
      batches.push(
        await createBatch(server, scenario.imagesPerBatch, first.cookie),
      );
    }
    const startedAt = performance.now();
    const ends = await Promise.all(batches.map(async (batch) => {
      const run = await startRun(server, batch);
      const lines = (await run.text()).split("\n").filter(Boolean);
      return JSON.parse(lines.at(-1) ?? "{}");
    }));
    const wallMs = performance.now() - startedAt;
    const stats = fake.stats();
    const images = scenario.batches * scenario.imagesPerBatch;
    const count = (field: "succeeded" | "failed") =>
      ends.reduce((sum, end) => sum + (end.batch?.counts?.[field] ?? 0), 0);
    return {
      images,
      budgetMs: images / bindingRate(scenario.quotas),
      wallMs,
      requests: stats.generate,
      answered429: stats.byStatus[429] ?? 0,
      saved: count("succeeded"),
      failed: images - count("succeeded"),
    };
  } finally {
    await server.stop();
  }
}

/** "4 per 1 s", "30 per 60 s and 4 per 1 s". */
export function describeQuotas(quotas: QuotaScenario["quotas"]): string {
  return quotas.map((q) => `${q.limit} per ${q.windowMs / 1000} s`).join(
    " and ",
  );
}

const scenarios = (
  quick: boolean,
): Omit<QuotaScenario, "concurrency" | "latencyMs">[] =>
  quick
    ? [
      {
        name: "one batch",
        quotas: [{ limit: 4, windowMs: 1_000 }],
        batches: 1,
        imagesPerBatch: 20,
      },
      {
        name: "three batches at once, one workspace",
        quotas: [{ limit: 4, windowMs: 1_000 }],
        batches: 3,
        imagesPerBatch: 10,
      },
    ]
    : [
      {
        name: "one batch (the issue's scenario)",
        quotas: [{ limit: 4, windowMs: 1_000 }],
        batches: 1,
        imagesPerBatch: 40,
      },
      {
        name: "one batch",
        quotas: [{ limit: 4, windowMs: 1_000 }],
        batches: 1,
        imagesPerBatch: 100,
      },
      {
        name: "one batch",
        quotas: [{ limit: 10, windowMs: 10_000 }],
        batches: 1,
        imagesPerBatch: 60,
      },
      {
        name: "one batch",
        quotas: [{ limit: 30, windowMs: 60_000 }],
        batches: 1,
        imagesPerBatch: 60,
      },
      {
        name: "three batches at once, one workspace",
        quotas: [{ limit: 4, windowMs: 1_000 }],
        batches: 3,
        imagesPerBatch: 40,
      },
      {
        name: "three batches at once, one workspace",
        quotas: [{ limit: 4, windowMs: 1_000 }, {
          limit: 60,
          windowMs: 60_000,
        }],
        batches: 3,
        imagesPerBatch: 40,
      },
    ];

/** The quota scenarios through the real server, into `report`. */
export async function quotaSection(report: Report) {
  for (const base of scenarios(report.quick)) {
    const scenario = { ...base, concurrency: 8, latencyMs: 100 };
    const label = `quota ${describeQuotas(scenario.quotas)}, ${
      scenario.batches > 1
        ? `${scenario.batches} batches × ${scenario.imagesPerBatch}`
        : `${scenario.imagesPerBatch} images`
    }, C=8, L=100 ms`;
    report.print();
    report.print(
      `## ${label} (${scenario.name}; fake quotas are sliding windows, 429 with QuotaFailure + RetryInfo, shared by all callers)`,
    );
    const r = await measureQuota(scenario);
    const ratio = r.wallMs / r.budgetMs;
    const share = r.answered429 / r.requests;
    report.print(
      `  wall ${s(r.wallMs)}, N/R = ${s(r.budgetMs)}, ratio ${
        ratio3(ratio)
      }; ` +
        `${r.requests} requests, ${r.answered429} answered 429 (${
          (share * 100).toFixed(1)
        } %); ` +
        `${r.saved} saved, ${r.failed} failed`,
    );
    report.add({
      figure: `${label}: wall / (N/R)`,
      measured: `${ratio3(ratio)} (${s(r.wallMs)} vs ${s(r.budgetMs)})`,
      target: "≤ 1.10",
      met: ratio <= 1.10,
    });
    report.add({
      figure: `${label}: requests answered 429`,
      measured: `${
        (share * 100).toFixed(1)
      } % (${r.answered429} of ${r.requests})`,
      target: "< 2 %",
      met: share < 0.02,
    });
    report.add({
      figure: `${label}: failed items`,
      measured: String(r.failed),
      target: "0",
      met: r.failed === 0,
    });
  }
}
