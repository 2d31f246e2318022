/**
 * [cost] Issue #5 "Cost you can trust": the estimate on the form, "price
 * unknown" for a model without a price, and actual cost from the fake's
 * usageMetadata per item, per batch, in the manifest and in the running
 * figure of the SSE stream. Budget caps and the confirm threshold are in
 * cost_budget_test.ts.
 *
 * Every expected figure is worked out BY HAND below from core/prices.json
 * (gemini-3-pro-image: input $2/1M, text and thinking output $12/1M, image
 * output $120/1M; 1120 image tokens at 1K and 2K) and from the fake's
 * usageMetadata (tests/fake_gemini/responses.ts):
 *
 * - promptTokenCount = max(1, ceil(prompt chars / 4));
 * - an image answer of a gemini-3 model carries a thought whose text, at
 *   1:1 and 1K, is "**Composing the scene**\n\nPlanning a 1:1 layout at
 *   1K, then refining colour and detail." = 86 chars → 64 + ceil(86/4) =
 *   64 + 22 = 86 thought tokens;
 * - the generator asks for TEXT and IMAGE, so the answer ends with "Here is
 *   your image." = 19 chars → 5 text tokens; candidatesTokenCount = 1120
 *   image + 5 text = 1125;
 * - a candidate blocked with IMAGE_SAFETY reports the prompt tokens and 240
 *   thought tokens, no output tokens.
 */
import assert from "node:assert/strict";
import {
  createBatchViaApi,
  form,
  simplePlan,
  startTestApp,
  storeBatch,
  TEST_KEY,
} from "./_helpers.ts";
import { expectHtml, expectJson, parse, query, text } from "./_html.ts";
import { COST_LABEL, PRICE_LIST_DATE } from "../core/cost.ts";

const PRO = "gemini-3-pro-image";
const UNKNOWN = "gemini-9-ultra-image";

/** Equal to within 10^-12 USD (sums of doubles). */
function assertUsd(actual: unknown, expected: number, what: string) {
  assert.equal(typeof actual, "number", `${what}: ${actual}`);
  assert.ok(
    Math.abs((actual as number) - expected) < 1e-12,
    `${what}: expected ${expected}, got ${actual}`,
  );
}

/** The HTML of each `data:` event of an SSE body. */
function sseEvents(body: string): string[] {
  return body.split(/\n\n+/).map((block) =>
    block.split("\n").filter((l) => l.startsWith("data:")).map((l) =>
      l.replace(/^data: ?/, "")
    ).join("\n")
  ).filter(Boolean);
}

Deno.test("[cost] estimate fragment: 3 prompts × 2 images on Pro 2K shows the hand-computed total", async () => {
  await using t = await startTestApp();
  const response = await t.request("/batches/estimate", {
    method: "POST",
    headers: { "HX-Request": "true" },
    body: form({
      // 9, 9 and 18 characters → 3, 3 and 5 input tokens.
      prompts: "a red fox\na shy owl\na calm sea at dawn",
      model: PRO,
      aspectRatio: "1:1",
      imageSize: "2K",
      imagesPerPrompt: "2",
    }),
  });
  const { doc } = await expectHtml(response, 200);
  // Per image: 1120 × $120/1M = $0.1344, plus input tokens × $2/1M:
  //   "a red fox"          0.1344 + 3 × 0.000002 = 0.134406
  //   "a shy owl"          0.1344 + 3 × 0.000002 = 0.134406
  //   "a calm sea at dawn" 0.1344 + 5 × 0.000002 = 0.134410
  // Two images each: 2 × (0.134406 + 0.134406 + 0.134410) = 0.806444;
  // average per image 0.806444 / 6 = 0.1344073… → "$0.134".
  const total = Number(
    doc.querySelector(".estimate-body")?.getAttribute("data-total"),
  );
  assertUsd(total, 0.806444, "data-total");
  const body = text(doc);
  assert.match(body, /3 prompts × 2 images = 6 images/);
  assert.match(body, /about \$0\.134 per image, \$0\.806 in total/);
  const label = doc.querySelector(".estimate-body")?.getAttribute("title");
  assert.equal(label, COST_LABEL, "labelled (its tooltip)");
  assert.ok(label?.includes(`prices as of ${PRICE_LIST_DATE}`));
});

Deno.test("[cost] a model without a price: batch page, history and API say price unknown, never $0.00", async () => {
  await using t = await startTestApp();
  const known = await createBatchViaApi(t, { prompts: ["x"], model: PRO });
  const [row] = await query(
    t,
    "select workspace_id from batches where id = ?",
    [
      known.id,
    ],
  );
  // A batch on a model the price table does not know, stored directly (the
  // form and the API accept only known models).
  const batch = await storeBatch(
    t.deps.db,
    String(row?.workspace_id),
    simplePlan({
      title: "Mystery model",
      prompts: ["a red fox"],
      model: UNKNOWN,
      aspectRatio: "1:1",
      imageSize: "1K",
      imagesPerPrompt: 1,
      concurrency: 1,
    }),
  );
  assert.equal(batch.estimatedCostUsd, null, "no estimate is stored");
  const headers = { cookie: known.cookie };

  const page = await expectHtml(
    await t.request(`/batches/${batch.id}`, { headers }),
    200,
  );
  const cost = text(page.doc.querySelector(`#summary-${batch.id} .cost`));
  assert.match(cost, /Estimated Google usage: price unknown for this model/);
  assert.match(
    page.doc.querySelector(`#summary-${batch.id} .cost-figure`)
      ?.getAttribute("title") ?? "",
    new RegExp(`prices as of ${PRICE_LIST_DATE}`),
  );
  assert.doesNotMatch(cost, /\$0\.00/);

  const history = await expectHtml(
    await t.request("/history", { headers }),
    200,
  );
  const cells = [...history.doc.querySelectorAll(`#history-${batch.id} td`)]
    .map(text);
  assert.equal(cells[4], "price unknown of est. price unknown");

  const api = await expectJson(
    await t.request(`/api/batches/${batch.id}`, { headers }),
    200,
  );
  assert.equal(api.estimatedCostUsd, null, "null = price unknown");
  assert.match(api.costLabel, /not a BatchGen charge/);
});

Deno.test("[cost] a run on the fake: per-item cost, batch actual cost, manifest and the running figure in the SSE stream", async () => {
  await using t = await startTestApp();
  const { id, cookie } = await createBatchViaApi(t, {
    title: "Costs",
    // 9, 30 and 18 characters → 3, 8 and 5 prompt tokens.
    prompts: [
      "a red fox",
      "a shy owl [block:IMAGE_SAFETY]",
      "a calm sea at dawn",
    ],
    model: PRO,
    aspectRatio: "1:1",
    imageSize: "1K",
    concurrency: 1,
  });
  // The estimate before the run (no thoughts, no text tokens):
  //   0.1344 + 3 × 0.000002 = 0.134406
  //   0.1344 + 8 × 0.000002 = 0.134416
  //   0.1344 + 5 × 0.000002 = 0.134410  → total 0.403232 → "$0.403".
  const before = await expectJson(
    await t.request(`/api/batches/${id}`, { headers: { cookie } }),
    200,
  );
  assertUsd(before.estimatedCostUsd, 0.403232, "estimate");

  // Run from the page with a cap of $1.00 sent with the run request.
  const response = await t.request(`/batches/${id}/run?mode=resume`, {
    method: "POST",
    headers: { cookie, "HX-Request": "true" },
    body: form({ apiKey: TEST_KEY, budgetUsd: "1" }),
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /event-stream/);
  const events = sseEvents(await response.text());
  const figures = events.map((html) => {
    const doc = parse(html);
    return {
      summary: text(doc.querySelector(".cost-figure")),
      activity: text(doc.querySelector(".run-cost")),
      // The K9 label is each figure's tooltip; the page says it once.
      labels: [".cost-figure", ".run-cost"].map((s) =>
        doc.querySelector(s)?.getAttribute("title") ?? ""
      ),
    };
  });

  // Actual cost per item, from the fake's usage:
  // 1. "a red fox": 1120 image tokens × $120/1M = 0.1344
  //    + (1125 − 1120 = 5 text + 86 thought = 91) × $12/1M = 0.001092
  //    + 3 prompt tokens × $2/1M = 0.000006            → 0.135498
  // 2. blocked: 8 prompt tokens × $2/1M = 0.000016
  //    + 240 thought tokens × $12/1M = 0.00288          → 0.002896
  // 3. "a calm sea at dawn": 0.1344 + 0.001092 + 5 × 0.000002 → 0.135502
  // Running total: 0.135498 → 0.138394 → 0.273896.
  const first = "$0.135 so far of estimated $0.403 · cap $1.00";
  const second = "$0.138 so far of estimated $0.403 · cap $1.00";
  const last = "$0.274 so far of estimated $0.403 · cap $1.00";
  // Once every image is done or failed, the total is no longer "so far".
  const total = "$0.274 of estimated $0.403 · cap $1.00";
  for (const figure of [first, second, last]) {
    assert.ok(
      figures.some((f) =>
        f.summary.includes(`Estimated Google usage: ${figure}`)
      ),
      `summary shows "${figure}"`,
    );
    assert.ok(
      figures.some((f) => f.activity.includes(figure)),
      `activity region shows "${figure}"`,
    );
  }
  for (const f of figures) {
    for (const label of f.labels) {
      assert.match(
        label,
        /^Estimated Google usage \(not a BatchGen charge\), prices as of \d{4}-\d{2}-\d{2}$/,
      );
    }
    assert.match(f.activity, /Google usage \$/);
  }
  assert.ok(figures.at(-1)!.summary.includes(total), "ends at the total");

  const record = await expectJson(
    await t.request(`/api/batches/${id}`, { headers: { cookie } }),
    200,
  );
  assert.equal(record.status, "partial");
  assert.equal(record.budgetUsd, 1, "the cap sent with the run is stored");
  const [fox, owl, sea] = record.items;
  assert.deepEqual(fox.usage, {
    promptTokens: 3,
    outputTokens: 1125,
    imageTokens: 1120,
    thoughtTokens: 86,
  });
  assert.deepEqual(owl.usage, {
    promptTokens: 8,
    outputTokens: 0,
    imageTokens: 0,
    thoughtTokens: 240,
  });
  assert.equal(owl.status, "blocked");
  assertUsd(fox.costUsd, 0.135498, "fox");
  assertUsd(owl.costUsd, 0.002896, "blocked owl still costs");
  assertUsd(sea.costUsd, 0.135502, "sea");
  assertUsd(record.actualCostUsd, 0.273896, "batch actual");

  const manifest = await expectJson(
    await t.request(`/api/batches/${id}/manifest.json`, {
      headers: { cookie },
    }),
    200,
  );
  const perImage = manifest.items.map((i: { estimatedCostUsd: number }) =>
    i.estimatedCostUsd
  );
  assertUsd(perImage[0], 0.135498, "manifest fox");
  assertUsd(perImage[1], 0.002896, "manifest owl");
  assertUsd(perImage[2], 0.135502, "manifest sea");
  assertUsd(manifest.batch.cost.actualUsd, 0.273896, "manifest actual");
  assertUsd(manifest.batch.cost.estimatedUsd, 0.403232, "manifest estimate");
  assert.match(manifest.batch.cost.label, /not a BatchGen charge/);

  // History and the batch page show the same figure with the cap.
  const history = await expectHtml(
    await t.request("/history", { headers: { cookie } }),
    200,
  );
  const cells = [...history.doc.querySelectorAll(`#history-${id} td`)].map(
    text,
  );
  assert.equal(cells[4], "$0.274 of est. $0.403 · cap $1.00");
  const page = await expectHtml(
    await t.request(`/batches/${id}`, { headers: { cookie } }),
    200,
  );
  assert.match(
    text(page.doc.querySelector(`#summary-${id} .cost`)),
    // Finished: no "so far", and the label is the figure's tooltip.
    /^Estimated Google usage: \$0\.274 of estimated \$0\.403 · cap \$1\.00$/,
  );
  assert.equal(t.fake.stats().generate, 3);
});
