/**
 * [cost] Issue #5: the budget cap (stop early, raise and resume, refuse a cap
 * that cannot be enforced) and the confirm threshold of new batches. Figures
 * are worked out BY HAND from core/prices.json and the fake's usage; see the
 * header of cost_test.ts for the fake's token counts:
 *
 * gemini-3-pro-image 1K, 1:1, a 9-character prompt (3 input tokens):
 * - estimate per image: 1120 × $120/1M + 3 × $2/1M = 0.1344 + 0.000006
 *   = $0.134406;
 * - actual per image: 0.1344 + (5 text + 86 thought) × $12/1M + 0.000006
 *   = 0.1344 + 0.001092 + 0.000006 = $0.135498.
 */
import assert from "node:assert/strict";
import {
  createBatchViaApi,
  form,
  readNdjson,
  simplePlan,
  startTestApp,
  storeBatch,
  TEST_KEY,
  type TestApp,
} from "./_helpers.ts";
import {
  expectHtml,
  expectJson,
  HTMX,
  newWorkspace,
  postBatchForm,
  query,
  text,
} from "./_html.ts";
import { ConfigError, loadConfig } from "../config.ts";

const PRO = "gemini-3-pro-image";
const UNKNOWN = "gemini-9-ultra-image";
/** Five prompts of 9 characters each. */
const NINE = ["a red fox", "a shy owl", "a tan cat", "a big elk", "a wet dog"];

function assertUsd(actual: unknown, expected: number, what: string) {
  assert.equal(typeof actual, "number", `${what}: ${actual}`);
  assert.ok(
    Math.abs((actual as number) - expected) < 1e-12,
    `${what}: expected ${expected}, got ${actual}`,
  );
}

async function apiRun(
  t: TestApp,
  id: string,
  cookie: string,
  init: { query?: string; body?: unknown } = {},
): Promise<Response> {
  const headers: Record<string, string> = {
    cookie,
    "x-goog-api-key": TEST_KEY,
  };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  return await t.request(`/api/batches/${id}/run${init.query ?? ""}`, {
    method: "POST",
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
}

async function batchRecord(t: TestApp, id: string, cookie: string) {
  return await expectJson(
    await t.request(`/api/batches/${id}`, { headers: { cookie } }),
    200,
  );
}

Deno.test("[cost] budget: a cap of 2.5 images stops after exactly 2; raising it on the run route and resuming completes the batch", async () => {
  await using t = await startTestApp();
  const { id, cookie } = await createBatchViaApi(t, {
    prompts: NINE,
    model: PRO,
    aspectRatio: "1:1",
    imageSize: "1K",
    concurrency: 1,
  });
  // Cap = 2.5 × $0.134406 = $0.336015. Before image 1: 0 + 0.134406 ≤ cap;
  // before image 2: 0.135498 + 0.134406 = 0.269904 ≤ cap; before image 3:
  // 2 × 0.135498 + 0.134406 = 0.405402 > cap → stop at 2 images, having
  // spent 0.270996 (≤ cap). "$0.336015" shows as "$0.336", 0.270996 as
  // "$0.271".
  const run = await apiRun(t, id, cookie, { body: { budgetUsd: 0.336015 } });
  assert.equal(run.status, 200);
  const events = await readNdjson(run);
  const message =
    "Stopped at your budget cap of $0.336: about $0.271 of estimated Google usage so far. Raise the cap and Resume to continue.";
  assert.deepEqual(events.filter((e) => e.type === "batch-stopped"), [
    { type: "batch-stopped", kind: "budget", message },
  ]);
  assert.equal(events.filter((e) => e.type === "image-saved").length, 2);
  assert.equal(t.fake.stats().generate, 2, "nothing more was requested");

  const stopped = await batchRecord(t, id, cookie);
  assert.equal(stopped.status, "interrupted");
  assert.equal(stopped.statusMessage, message);
  assert.equal(stopped.budgetUsd, 0.336015);
  assert.deepEqual(stopped.counts, {
    items: 5,
    succeeded: 2,
    failed: 0,
    blocked: 0,
  });
  assertUsd(stopped.actualCostUsd, 0.270996, "spent");
  assert.ok(stopped.actualCostUsd <= stopped.budgetUsd, "within the cap");
  assert.deepEqual(
    stopped.items.map((i: { status: string }) => i.status),
    ["succeeded", "succeeded", "interrupted", "interrupted", "interrupted"],
  );

  // The batch page offers the cap next to Resume; Resume includes it.
  const page = await expectHtml(
    await t.request(`/batches/${id}`, { headers: { cookie } }),
    200,
  );
  const field = page.doc.querySelector(`#budget-${id}`);
  assert.equal(field?.getAttribute("name"), "budgetUsd");
  assert.equal(field?.getAttribute("value"), "0.336015");
  const resume = page.doc.querySelector(
    `button[hx-get="/batches/${id}/runner?mode=resume"]`,
  );
  assert.equal(text(resume), "Resume");
  assert.equal(resume?.getAttribute("hx-include"), `#budget-${id}`);
  assert.match(
    text(page.doc.querySelector(`#summary-${id} .cost`)),
    /^Estimated Google usage: \$0\.271 so far of estimated \$0\.672 · cap \$0\.336$/,
  );

  // Resume with a new cap typed into the field: the runner passes it on.
  const runner = await expectHtml(
    await t.request(`/batches/${id}/runner?mode=resume&budgetUsd=1`, {
      headers: { cookie, "HX-Request": "true" },
    }),
    200,
  );
  const starter = runner.doc.querySelector(`#run-${id}`);
  const action = starter?.getAttribute("hx-post") ?? "";
  assert.equal(action, `/batches/${id}/run?mode=resume&budgetUsd=1`);
  assert.equal(starter?.getAttribute("hx-include"), "#api-key");
  const resumed = await t.request(action, {
    method: "POST",
    headers: { cookie, "HX-Request": "true" },
    body: form({ apiKey: TEST_KEY }),
  });
  assert.equal(resumed.status, 200);
  const sse = await resumed.text();
  // 3 more images: spent 0.270996 + 3 × 0.135498 = 5 × 0.135498 = 0.67749
  // ("$0.677"), each start within $1.00 (last check: 4 × 0.135498 +
  // 0.134406 = 0.676398). The estimate was 5 × 0.134406 = 0.67203 ("$0.672").
  assert.ok(sse.includes("$0.677 so far of estimated $0.672 · cap $1.00"));

  const done = await batchRecord(t, id, cookie);
  assert.equal(done.status, "done");
  assert.equal(done.statusMessage, null);
  assert.equal(done.budgetUsd, 1);
  assertUsd(done.actualCostUsd, 0.67749, "total");
  assert.equal(t.fake.stats().generate, 5);
});

Deno.test("[cost] budget: the cap sent with a run is validated (4xx) and can be removed", async () => {
  await using t = await startTestApp();
  const { id, cookie } = await createBatchViaApi(t, {
    prompts: ["a red fox"],
    model: PRO,
    budgetUsd: 3,
  });
  for (
    const [init, pattern] of [
      [{ query: "?budgetUsd=-1" }, /cannot be negative/],
      [{ query: "?budgetUsd=lots" }, /must be a number/],
      [{ body: { budgetUsd: "lots" } }, /must be a number/],
      [{ body: { budgetUsd: 2_000_000 } }, /at most 1,000,000/],
    ] as const
  ) {
    const error = await expectJson(await apiRun(t, id, cookie, init), 400);
    assert.equal(error.error.code, "invalid_budget", JSON.stringify(init));
    assert.match(error.error.message, pattern);
  }
  const page = await t.request(`/batches/${id}/run?mode=resume`, {
    method: "POST",
    headers: { cookie, "HX-Request": "true" },
    body: form({ apiKey: TEST_KEY, budgetUsd: "-1" }),
  });
  const refused = await expectHtml(page, 400);
  assert.match(
    text(refused.doc.querySelector(`#run-ended-${id}`)),
    /The budget cap cannot be negative\. Correct it and press Start again\./,
  );
  const runner = await t.request(`/batches/${id}/runner?budgetUsd=abc`, {
    headers: { cookie, "HX-Request": "true" },
  });
  assert.equal(runner.status, 400);
  await runner.body?.cancel();
  assert.equal(t.fake.stats().generate, 0, "nothing ran");
  assert.equal((await batchRecord(t, id, cookie)).budgetUsd, 3, "unchanged");

  // JSON null removes the cap; the run then goes through.
  const run = await apiRun(t, id, cookie, { body: { budgetUsd: null } });
  assert.equal(run.status, 200);
  const last = (await readNdjson(run)).at(-1) as { batch: { status: string } };
  assert.equal(last.batch.status, "done");
  assert.equal((await batchRecord(t, id, cookie)).budgetUsd, null);
});

Deno.test("[cost] budget: a capped run on a model without a price is refused with a 4xx, before anything starts", async () => {
  await using t = await startTestApp();
  const known = await createBatchViaApi(t, { prompts: ["x"], model: PRO });
  const [row] = await query(
    t,
    "select workspace_id from batches where id = ?",
    [known.id],
  );
  const input = {
    title: "Mystery model",
    prompts: ["a red fox"],
    model: UNKNOWN,
    aspectRatio: "1:1",
    imageSize: "1K",
    imagesPerPrompt: 1,
    concurrency: 1,
  };
  const workspace = String(row?.workspace_id);
  const uncapped = await storeBatch(
    t.deps.db,
    workspace,
    simplePlan(input),
  );
  const capped = await storeBatch(
    t.deps.db,
    workspace,
    simplePlan({ ...input, budgetUsd: 2 }),
  );
  const cookie = known.cookie;

  // A stored cap, through the API and the page.
  const api = await expectJson(await apiRun(t, capped.id, cookie), 422);
  assert.equal(api.error.code, "budget_unenforceable");
  assert.match(
    api.error.message,
    /no price for gemini-9-ultra-image, so your budget cap of \$2\.00 cannot be enforced/,
  );
  const page = await expectHtml(
    await t.request(`/batches/${capped.id}/run?mode=resume`, {
      method: "POST",
      headers: { cookie, "HX-Request": "true" },
      body: form({ apiKey: TEST_KEY }),
    }),
    422,
  );
  assert.match(
    text(page.doc.querySelector(`#run-ended-${capped.id}`)),
    /cannot be enforced/,
  );

  // A cap sent with the run request, on a batch without one: refused, and
  // not stored.
  const withCap = await expectJson(
    await apiRun(t, uncapped.id, cookie, { query: "?budgetUsd=5" }),
    422,
  );
  assert.equal(withCap.error.code, "budget_unenforceable");
  const [stored] = await query(
    t,
    "select budget_usd, status from batches where id = ?",
    [uncapped.id],
  );
  assert.equal(stored?.budget_usd, null);
  assert.equal(stored?.status, "draft");
  assert.equal(t.fake.stats().generate, 0, "no request reached Google");
});

Deno.test("[cost] confirm: above the default $5 threshold the batch waits as a draft with a Start button; below it starts", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  // 10 prompts of 2 characters (1 input token) × 3 images on Pro 4K:
  // 30 × (2000 × $120/1M + 1 × $2/1M) = 30 × 0.240002 = $7.20006 > $5.
  const big = await postBatchForm(t, cookie, {
    prompts: Array.from({ length: 10 }, (_, i) => `p${i}`).join("\n"),
    model: PRO,
    aspectRatio: "1:1",
    imageSize: "4K",
    imagesPerPrompt: "3",
  }, HTMX);
  const id = big.headers.get("hx-push-url")?.split("/").pop() ?? "";
  const { doc } = await expectHtml(big, 201);
  assert.equal(doc.querySelector('hx-partial[hx-target="#activity"]'), null);
  assert.equal(doc.querySelector(`#run-${id}`), null, "no run starter");
  const confirm = doc.querySelector(`#confirm-${id}`);
  assert.equal(
    text(confirm?.querySelector("p")),
    "This batch is estimated at $7.20 of Google usage. Start it?",
  );
  assert.match(confirm?.getAttribute("title") ?? "", /not a BatchGen charge/);
  // One way to start it (the question's), and one to discard it.
  assert.equal(
    doc.querySelectorAll(`#summary-${id} button[hx-get*="/runner"]`).length,
    0,
    "the summary offers no second start button",
  );
  assert.equal(
    text(confirm?.querySelector(`button[hx-delete="/batches/${id}"]`)),
    "Discard",
  );
  const start = confirm?.querySelector("button");
  assert.equal(text(start), "Start");
  assert.equal(
    start?.getAttribute("hx-get"),
    `/batches/${id}/runner?mode=resume`,
  );
  assert.equal(start?.getAttribute("hx-target"), "#activity");
  assert.equal(start?.getAttribute("hx-swap"), "beforeend");
  const [stored] = await query(t, "select status from batches where id = ?", [
    id,
  ]);
  assert.equal(stored?.status, "draft");

  // Start: the runner returns the run starter and removes the question.
  const runner = await expectHtml(
    await t.request(`/batches/${id}/runner?mode=resume`, {
      headers: { cookie, "HX-Request": "true" },
    }),
    200,
  );
  assert.ok(runner.doc.querySelector(`#run-${id}[hx-trigger="load"]`));
  assert.equal(
    runner.doc.querySelector(`hx-partial[hx-target="#confirm-${id}"]`)
      ?.getAttribute("hx-swap"),
    "delete",
  );

  // 1 × (1120 × $120/1M + 3 × $2/1M) = $0.134406 ≤ $5: starts at once.
  const small = await postBatchForm(t, cookie, {
    prompts: "a red fox",
    model: PRO,
    aspectRatio: "1:1",
    imageSize: "1K",
  }, HTMX);
  const smallId = small.headers.get("hx-push-url")?.split("/").pop() ?? "";
  const smallDoc = (await expectHtml(small, 201)).doc;
  assert.ok(
    smallDoc.querySelector(`hx-partial[hx-target="#activity"] #run-${smallId}`),
    "run starter",
  );
  assert.equal(smallDoc.querySelector(`#confirm-${smallId}`), null);
  assert.equal(t.fake.stats().generate, 0, "creating a batch requests nothing");
});

Deno.test("[cost] confirm: BATCHGEN_CONFIRM_ABOVE_USD sets the threshold; the JSON API never asks", async () => {
  await using t = await startTestApp({
    env: { BATCHGEN_CONFIRM_ABOVE_USD: "0.5" },
  });
  assert.equal(t.config.confirmAboveUsd, 0.5);
  const cookie = await newWorkspace(t);
  const fields = {
    model: PRO,
    aspectRatio: "1:1",
    imageSize: "2K",
    imagesPerPrompt: "2",
  };
  // 3 prompts of 9 characters × 2 images: 6 × 0.134406 = $0.806436 > $0.50.
  const above = await postBatchForm(t, cookie, {
    ...fields,
    prompts: NINE.slice(0, 3).join("\n"),
  }, HTMX);
  const aboveDoc = (await expectHtml(above, 201)).doc;
  assert.match(
    text(aboveDoc.querySelector(".confirm-start")),
    /estimated at \$0\.806 of Google usage/,
  );
  assert.equal(
    aboveDoc.querySelector('hx-partial[hx-target="#activity"]'),
    null,
  );
  // 1 prompt × 2 images: 2 × 0.134406 = $0.268812 ≤ $0.50.
  const below = await postBatchForm(t, cookie, {
    ...fields,
    prompts: NINE[0]!,
  }, HTMX);
  const belowDoc = (await expectHtml(below, 201)).doc;
  assert.ok(belowDoc.querySelector('hx-partial[hx-target="#activity"]'));
  assert.equal(belowDoc.querySelector(".confirm-start"), null);

  // The API: a $0.806436 batch runs when the script says so.
  const api = await createBatchViaApi(t, {
    prompts: NINE.slice(0, 3),
    model: PRO,
    imageSize: "2K",
    imagesPerPrompt: 2,
  });
  const run = await apiRun(t, api.id, api.cookie);
  const last = (await readNdjson(run)).at(-1) as {
    batch: { status: string };
  };
  assert.equal(last.batch.status, "done");
});

Deno.test("[cost] config: BATCHGEN_CONFIRM_ABOVE_USD defaults to 5 and rejects bad values", () => {
  assert.equal(loadConfig({}).confirmAboveUsd, 5);
  assert.equal(
    loadConfig({ BATCHGEN_CONFIRM_ABOVE_USD: "12.5" }).confirmAboveUsd,
    12.5,
  );
  assert.equal(
    loadConfig({ BATCHGEN_CONFIRM_ABOVE_USD: "0" }).confirmAboveUsd,
    0,
  );
  for (const bad of ["-1", "five"]) {
    assert.throws(
      () => loadConfig({ BATCHGEN_CONFIRM_ABOVE_USD: bad }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /BATCHGEN_CONFIRM_ABOVE_USD/.test(error.message),
    );
  }
});
