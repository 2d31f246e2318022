/**
 * [batch-mode] Google's Batch API at half the price, through the JSON API
 * against the fake: submit (the stream ends at `submitted`), close, sync
 * later with the key, every image saved once at 50%; each state; chunking at
 * the caps; a sync cut off mid-download; double sync; cancel; Retry failed.
 */
import assert from "node:assert/strict";
import { pngBase64 } from "./fake_gemini/png.ts";
import type { FakeGeminiOptions } from "./fake_gemini.ts";
import {
  readNdjson,
  startTestApp,
  TEST_KEY,
  type TestApp,
} from "./_helpers.ts";
import { newWorkspace, query } from "./_html.ts";
import { LIMITS } from "../core/limits.ts";
import { costFromUsage, type Usage } from "../core/cost.ts";

const MODEL = "gemini-nano-banana-2.1";
const PRO = "gemini-3-pro-image";
const JSON_TYPE = { "content-type": "application/json" };

type Json = Record<string, unknown> & {
  id: string;
  status: string;
  counts: { items: number; succeeded: number; failed: number };
  jobs: {
    name: string;
    state: string;
    requestCount: number;
    collected: boolean;
  }[];
  items: Record<string, unknown>[];
};

async function setup(batch: FakeGeminiOptions["batch"] = {}) {
  const t = await startTestApp({
    fake: { batch: { getsPerState: 1, ...batch } },
  });
  return { t, cookie: await newWorkspace(t) };
}

async function create(t: TestApp, cookie: string, body: unknown) {
  const response = await t.request("/api/batches", {
    method: "POST",
    headers: { ...JSON_TYPE, cookie },
    body: JSON.stringify(body),
  });
  const json = await response.json();
  assert.equal(response.status, 201, JSON.stringify(json));
  return json as Json;
}

async function submit(t: TestApp, cookie: string, id: string) {
  const response = await t.request(`/api/batches/${id}/run`, {
    method: "POST",
    headers: { cookie, "x-goog-api-key": TEST_KEY },
  });
  assert.equal(response.status, 200);
  return await readNdjson(response);
}

async function sync(t: TestApp, cookie: string, id: string, status = 200) {
  const response = await t.request(`/api/batches/${id}/sync`, {
    method: "POST",
    headers: { cookie, "x-goog-api-key": TEST_KEY },
  });
  const json = await response.json();
  assert.equal(response.status, status, JSON.stringify(json));
  return json as Json;
}

async function record(t: TestApp, cookie: string, id: string) {
  return await (await t.request(`/api/batches/${id}`, { headers: { cookie } }))
    .json() as Json;
}

async function imageRows(t: TestApp, batchId: string): Promise<number> {
  const rows = await query(
    t,
    "select count(*) as n from images where batch_id = ?",
    [batchId],
  );
  return Number(rows[0]?.n);
}

/** Syncs until every job is collected (at most `tries` times). */
async function syncToEnd(t: TestApp, cookie: string, id: string, tries = 6) {
  let last: Json | undefined;
  for (let i = 0; i < tries; i++) {
    last = await sync(t, cookie, id);
    if (last.jobs.every((j) => j.collected)) return last;
  }
  throw new Error(
    `not collected after ${tries} syncs: ${JSON.stringify(last)}`,
  );
}

Deno.test("[batch-mode] 50 rows with a reference: submitted, the tab closes, a later sync saves each image once at half the price", async () => {
  const { t, cookie } = await setup();
  await using _ = t;
  const data = new FormData();
  data.append(
    "file",
    new File(
      [Uint8Array.fromBase64(await pngBase64(8, 8, [9, 9, 9]))],
      "style.png",
    ),
  );
  const [ref] = (await (await t.request("/api/references", {
    method: "POST",
    headers: { cookie },
    body: data,
  })).json()).references;
  const created = await create(t, cookie, {
    model: MODEL,
    mode: "batch",
    references: [ref.id],
    prompts: Array.from({ length: 50 }, (_, i) => `a lighthouse, variant ${i}`),
  });
  assert.equal(created.mode, "batch");
  assert.ok(
    Math.abs(
      (created.estimatedCostUsd as number) * 2 -
        (created.estimatedStandardCostUsd as number),
    ) < 1e-9,
    "the estimate is half the standard one",
  );

  const events = await submit(t, cookie, created.id);
  const last = events.at(-1)!;
  assert.equal(last.type, "submitted", "the stream ends at `submitted`");
  const jobs = last.jobs as Json["jobs"];
  assert.equal(jobs.length, 1);
  assert.equal(jobs[0]!.requestCount, 50);
  assert.equal(t.fake.stats().generate, 0, "no image was asked for now");
  const [job] = t.fake.batchJobs();
  assert.equal(job!.inputKind, "file", "50 rows go as an uploaded JSONL file");
  assert.match(job!.displayName, new RegExp(created.id));
  assert.equal((await record(t, cookie, created.id)).status, "submitted");
  // History marks it as waiting at Google.
  const history = await (await t.request("/history", { headers: { cookie } }))
    .text();
  assert.match(history, /At Google/);

  // Later, with the key again: pending, running, then the results.
  assert.equal((await sync(t, cookie, created.id)).jobs[0]!.state, "pending");
  assert.equal((await sync(t, cookie, created.id)).jobs[0]!.state, "running");
  const done = await sync(t, cookie, created.id);
  assert.equal(done.jobs[0]!.state, "succeeded");
  assert.equal(done.status, "done");
  assert.equal(done.counts.succeeded, 50);
  const full = await record(t, cookie, created.id);
  for (const item of full.items) {
    const usage = item.usage as Usage;
    const standard = costFromUsage(MODEL, usage)!;
    assert.ok(standard > 0);
    assert.ok(
      Math.abs((item.costUsd as number) - standard / 2) < 1e-12,
      "each image is priced at half the standard rate",
    );
  }
  // Every row carried the reference once uploaded, by fileData.
  const ran = t.fake.batchJobs()[0]!;
  assert.ok(ran.rows.every((r) => r.inputImages?.[0]?.kind === "file"));

  // Syncing again changes nothing: no image twice, no cost twice.
  const again = await sync(t, cookie, created.id);
  assert.equal(again.actualCostUsd, done.actualCostUsd);
  const n = await imageRows(t, created.id);
  assert.equal(Number(n), 50);
  // The uploaded reference and input file are gone once collected.
  assert.deepEqual(
    t.fake.files().live.filter((name) => !name.startsWith("files/batch-")),
    [],
  );
  // Priced at the batch rate: half of what the same usage costs now.
  const manifest = await (await t.request(
    `/api/batches/${created.id}/manifest.json`,
    { headers: { cookie } },
  )).json();
  assert.equal(manifest.batch.mode, "batch");
});

Deno.test("[batch-mode] jobs are split by model and at the row cap; small ones go inline", async () => {
  const { t, cookie } = await setup({ getsPerState: 0 });
  await using _ = t;
  const rows = LIMITS.batchJobRows * 2 + 3;
  const created = await create(t, cookie, {
    model: MODEL,
    mode: "batch",
    prompts: Array.from({ length: rows }, (_, i) => `p${i}`),
    matrix: { model: [MODEL, PRO] },
  });
  const events = await submit(t, cookie, created.id);
  const jobs = events.at(-1)!.jobs as Json["jobs"];
  const made = t.fake.batchJobs();
  assert.equal(made.length, 6, "3 jobs per model");
  const shape = made.map((j) =>
    `${j.model.replace("models/", "")} ${j.requestCount} ${j.inputKind}`
  ).sort();
  assert.deepEqual(
    shape,
    [
      `${PRO} 100 file`,
      `${PRO} 100 file`,
      `${PRO} 3 inline`,
      `${MODEL} 100 file`,
      `${MODEL} 100 file`,
      `${MODEL} 3 inline`,
    ].sort(),
  );
  assert.equal(jobs.length, 6);
  const done = await syncToEnd(t, cookie, created.id);
  assert.equal(done.counts.succeeded, rows * 2);
});

Deno.test("[batch-mode] each state at Google maps to BatchGen's: expired and failed rows get reasons, partial results are kept", async (t) => {
  for (
    const [finalState, expect] of [
      ["EXPIRED", { status: "partial", kind: "expired" }],
      ["FAILED", { status: "failed", kind: "server" }],
      ["CANCELLED", { status: "cancelled", kind: null }],
    ] as const
  ) {
    await t.step(finalState, async () => {
      const { t: app, cookie } = await setup({ finalState });
      await using _ = app;
      const created = await create(app, cookie, {
        model: MODEL,
        mode: "batch",
        prompts: ["a", "b", "c", "d"],
      });
      await submit(app, cookie, created.id);
      const done = await syncToEnd(app, cookie, created.id);
      assert.equal(done.status, expect.status, JSON.stringify(done));
      const items = (await record(app, cookie, created.id)).items;
      const saved = items.filter((i) => i.status === "succeeded").length;
      assert.equal(
        saved,
        finalState === "FAILED" ? 0 : 2,
        "partial results kept",
      );
      if (expect.kind) {
        const failed = items.filter((i) => i.status === "failed");
        assert.ok(failed.every((i) => i.errorKind === expect.kind));
        assert.ok(
          failed.every((i) => /Retry failed/.test(String(i.errorMessage))),
        );
      } else {
        assert.equal(items.filter((i) => i.status === "cancelled").length, 2);
      }
    });
  }
});

Deno.test("[batch-mode] per-row errors and blocks become readable item reasons", async () => {
  const { t, cookie } = await setup({ getsPerState: 0 });
  await using _ = t;
  const created = await create(t, cookie, {
    model: MODEL,
    mode: "batch",
    prompts: ["fine", "a fox [block:IMAGE_SAFETY]", "oops [status:500]"],
  });
  await submit(t, cookie, created.id);
  const done = await syncToEnd(t, cookie, created.id);
  assert.equal(done.counts.succeeded, 1);
  const items = (await record(t, cookie, created.id)).items;
  const by = (p: string) => items.find((i) => String(i.prompt).startsWith(p))!;
  assert.equal(by("a fox").status, "blocked");
  assert.match(String(by("a fox").errorMessage), /IMAGE_SAFETY/);
  assert.equal(by("oops").status, "failed");
  assert.equal(by("oops").errorKind, "server");
});

Deno.test("[batch-mode] a sync cut off mid-download saves nothing twice; the next one finishes", async () => {
  const { t, cookie } = await setup({
    getsPerState: 0,
    downloadFailOnce: "cut",
  });
  await using _ = t;
  const created = await create(t, cookie, {
    model: MODEL,
    mode: "batch",
    prompts: Array.from({ length: 30 }, (_, i) => `p${i}`),
  });
  await submit(t, cookie, created.id);
  const first = await sync(t, cookie, created.id);
  assert.equal(first.jobs[0]!.collected, false, "not collected: cut off");
  assert.ok(first.counts.succeeded < 30);
  assert.match(String(first.statusMessage), /syncing again continues it/);
  const second = await sync(t, cookie, created.id);
  assert.equal(second.jobs[0]!.collected, true);
  assert.equal(second.counts.succeeded, 30);
  const n = await imageRows(t, created.id);
  assert.equal(Number(n), 30, "each image once");
});

Deno.test("[batch-mode] cancel needs the key and cancels at Google; Retry failed resubmits or runs now", async () => {
  const { t, cookie } = await setup({ getsPerState: 5 });
  await using _ = t;
  const created = await create(t, cookie, {
    model: MODEL,
    mode: "batch",
    prompts: ["a", "b", "c", "d"],
  });
  await submit(t, cookie, created.id);
  const noKey = await t.request(`/api/batches/${created.id}/cancel`, {
    method: "POST",
    headers: { cookie },
  });
  assert.equal(noKey.status, 400);
  assert.match(await noKey.text(), /x-goog-api-key/);
  const cancel = await t.request(`/api/batches/${created.id}/cancel`, {
    method: "POST",
    headers: { cookie, "x-goog-api-key": TEST_KEY },
  });
  assert.equal(cancel.status, 202);
  assert.ok(
    t.fake.requests.some((r) => r.path.endsWith(":cancel")),
    "the job is cancelled at Google",
  );
  const done = await syncToEnd(t, cookie, created.id);
  assert.equal(done.status, "cancelled");

  const items = (await record(t, cookie, created.id)).items;
  assert.equal(items.filter((i) => i.status === "cancelled").length, 2);

  // The cancelled ones, now at the standard price, through the generator.
  const now = await t.request(`/api/batches/${created.id}/run?now=1`, {
    method: "POST",
    headers: { cookie, "x-goog-api-key": TEST_KEY },
  });
  const events = await readNdjson(now);
  assert.equal(events.at(-1)!.type, "batch");
  assert.equal(t.fake.stats().generate, 2, "only the two cancelled ones");
  assert.equal((await record(t, cookie, created.id)).status, "done");
});

Deno.test("[batch-mode] a key Google refuses: nothing submitted, and the stream says why", async () => {
  const { t, cookie } = await setup();
  await using _ = t;
  const created = await create(t, cookie, {
    model: MODEL,
    mode: "batch",
    prompts: ["a", "b"],
  });
  const response = await t.request(`/api/batches/${created.id}/run`, {
    method: "POST",
    headers: { cookie, "x-goog-api-key": "bad-key-0123456789abcdef" },
  });
  const events = await readNdjson(response);
  const last = events.at(-1)!;
  assert.equal(last.type, "submitted");
  assert.deepEqual(last.jobs, []);
  assert.match(String(last.problem), /refused|key/i);
  assert.doesNotMatch(JSON.stringify(events), /bad-key-0123456789/);
  assert.equal((await record(t, cookie, created.id)).status, "draft");
});

Deno.test("[batch-mode] Retry failed resubmits the failed rows as a new job", async () => {
  const { t, cookie } = await setup({ getsPerState: 0 });
  await using _ = t;
  const created = await create(t, cookie, {
    model: MODEL,
    mode: "batch",
    prompts: ["fine", "flaky [fail-once:500]"],
  });
  await submit(t, cookie, created.id);
  const first = await syncToEnd(t, cookie, created.id);
  assert.equal(first.status, "partial");
  const retry = await t.request(`/api/batches/${created.id}/run?mode=retry`, {
    method: "POST",
    headers: { cookie, "x-goog-api-key": TEST_KEY },
  });
  const events = await readNdjson(retry);
  const jobs = events.at(-1)!.jobs as Json["jobs"];
  assert.equal(jobs.length, 1);
  assert.equal(jobs[0]!.requestCount, 1, "only the failed row");
  const done = await syncToEnd(t, cookie, created.id);
  assert.equal(done.status, "done");
  assert.equal(done.counts.succeeded, 2);
});
