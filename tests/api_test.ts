/** [api] The JSON API (design.md §7): creating, listing and reading batches; errors. */
import assert from "node:assert/strict";
import { createBatchViaApi, startTestApp } from "./_helpers.ts";
import { countRows, expectJson, workspaceCookie } from "./_html.ts";
import { COST_LABEL, estimateBatch, PRICE_LIST_DATE } from "../core/cost.ts";

const PRO = "gemini-3-pro-image";
const JSON_TYPE = { "content-type": "application/json" };

Deno.test("[api] POST /api/batches → 201 with the batch record and its cost estimate", async () => {
  await using t = await startTestApp();
  const prompts = ["a red fox", "a blue owl"];
  const response = await t.request("/api/batches", {
    method: "POST",
    headers: JSON_TYPE,
    body: JSON.stringify({
      prompts,
      model: PRO,
      aspectRatio: "16:9",
      imageSize: "2K",
      imagesPerPrompt: 3,
      concurrency: 2,
      title: "Wildlife",
    }),
  });
  assert.ok(workspaceCookie(response), "a new workspace cookie");
  const body = await expectJson(response, 201);
  assert.match(body.id, /^[0-9a-z]{32,}$/);
  const estimate = estimateBatch({
    model: PRO,
    imageSize: "2K",
    prompts,
    imagesPerPrompt: 3,
  });
  // By hand: 1120 tokens × $120/1M = $0.1344 per image, plus input tokens
  // (9 chars → 3 tokens, 10 chars → 3 tokens) × $2/1M = $0.000006 each.
  assert.ok(Math.abs(estimate.totalUsd! - (6 * 0.1344 + 6 * 0.000006)) < 1e-12);
  assert.deepEqual({ ...body, createdAt: "", updatedAt: "" }, {
    id: body.id,
    title: "Wildlife",
    status: "draft",
    statusMessage: null,
    model: PRO,
    aspectRatio: "16:9",
    imageSize: "2K",
    imagesPerPrompt: 3,
    concurrency: 2,
    createdAt: "",
    updatedAt: "",
    counts: { items: 6, succeeded: 0, failed: 0, blocked: 0 },
    mode: "standard",
    estimatedCostUsd: estimate.totalUsd,
    estimatedStandardCostUsd: estimate.totalUsd,
    actualCostUsd: 0,
    budgetUsd: null,
    priceListDate: PRICE_LIST_DATE,
    costLabel: COST_LABEL,
    url: `/batches/${body.id}`,
  });
  assert.match(body.costLabel, /not a BatchGen charge/);
  assert.ok(Date.parse(body.createdAt) <= Date.now());
  assert.equal(await countRows(t, "items", "batch_id = ?", [body.id]), 6);

  const defaults = await createBatchViaApi(t, {
    prompts: ["x"],
    model: "gemini-2.5-flash-image",
  });
  const record = await expectJson(
    await t.request(`/api/batches/${defaults.id}`, {
      headers: { cookie: defaults.cookie },
    }),
    200,
  );
  assert.equal(record.aspectRatio, "1:1");
  assert.equal(record.imageSize, "1K");
  assert.equal(record.imagesPerPrompt, 1);
  assert.equal(record.concurrency, t.config.concurrency);
});

Deno.test("[api] POST /api/batches refuses non-JSON (415), broken JSON and non-objects (400)", async () => {
  await using t = await startTestApp();
  const cases: Array<[RequestInit, number, string, RegExp]> = [
    [
      { headers: { "content-type": "text/plain" }, body: "{}" },
      415,
      "unsupported_media_type",
      /Content-Type: application\/json/,
    ],
    [{ body: "{}" }, 415, "unsupported_media_type", /JSON body/],
    [
      {
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "prompts=a",
      },
      415,
      "unsupported_media_type",
      /JSON/,
    ],
    [
      { headers: JSON_TYPE, body: '{"prompts": ["a"],' },
      400,
      "malformed_json",
      /not valid JSON/,
    ],
    [{ headers: JSON_TYPE, body: "" }, 400, "malformed_json", /not valid JSON/],
    [
      { headers: JSON_TYPE, body: '["a", "b"]' },
      400,
      "malformed_json",
      /must be a JSON object/,
    ],
    [
      { headers: JSON_TYPE, body: "null" },
      400,
      "malformed_json",
      /must be a JSON object/,
    ],
    [
      { headers: JSON_TYPE, body: '"prompts"' },
      400,
      "malformed_json",
      /must be a JSON object/,
    ],
  ];
  for (const [init, status, code, message] of cases) {
    const body = await expectJson(
      await t.request("/api/batches", { method: "POST", ...init }),
      status,
    );
    assert.equal(body.error.code, code, String(init.body));
    assert.match(body.error.message, message);
  }
  assert.equal(await countRows(t, "batches"), 0);
});

Deno.test("[api] invalid input → 422 {error: {code, message, fields}} and nothing stored", async () => {
  await using t = await startTestApp();
  const post = async (input: unknown) =>
    await expectJson(
      await t.request("/api/batches", {
        method: "POST",
        headers: JSON_TYPE,
        body: JSON.stringify(input),
      }),
      422,
    );
  const all = await post({
    prompts: [],
    model: "imagen-9",
    imagesPerPrompt: 0,
    concurrency: 40,
  });
  assert.equal(all.error.code, "invalid_input");
  assert.deepEqual(Object.keys(all.error.fields).sort(), [
    "concurrency",
    "imagesPerPrompt",
    "model",
    "prompts",
  ]);
  assert.equal(all.error.message, Object.values(all.error.fields)[0]);
  assert.match(all.error.fields.prompts, /at least one prompt/);
  assert.match(all.error.fields.model, /Unknown model/);

  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ model: PRO }, "prompts", /at least one prompt/],
    [{ prompts: "one prompt", model: PRO }, "prompts", /list of texts/],
    [{ prompts: [42], model: PRO }, "prompts", /must be text/],
    [{ prompts: ["  "], model: PRO }, "prompts", /cannot be empty/],
    [{ prompts: ["x".repeat(4001)], model: PRO }, "prompts", /at most 4000/],
    [{ prompts: Array(1001).fill("p"), model: PRO }, "prompts", /At most 1000/],
    [{ prompts: ["a"] }, "model", /Choose a model/],
    [
      { prompts: ["a"], model: PRO, aspectRatio: "1:8" },
      "aspectRatio",
      /supports the aspect ratios/,
    ],
    [
      { prompts: ["a"], model: "gemini-3.1-flash-lite-image", imageSize: "4K" },
      "imageSize",
      /image sizes 1K/,
    ],
    [
      { prompts: ["a"], model: PRO, imagesPerPrompt: 11 },
      "imagesPerPrompt",
      /At most 10/,
    ],
    [
      { prompts: ["a"], model: PRO, imagesPerPrompt: "abc" },
      "imagesPerPrompt",
      /whole number/,
    ],
    [
      { prompts: ["a"], model: PRO, imagesPerPrompt: 1.5 },
      "imagesPerPrompt",
      /whole number/,
    ],
    [
      { prompts: Array(600).fill("p"), model: PRO, imagesPerPrompt: 10 },
      "imagesPerPrompt",
      /At most 5000 images per batch/,
    ],
    [
      { prompts: ["a"], model: PRO, budgetUsd: -1 },
      "budgetUsd",
      /cannot be negative/,
    ],
    [
      { prompts: ["a"], model: PRO, title: "t".repeat(201) },
      "title",
      /at most 200/,
    ],
  ];
  for (const [input, field, message] of cases) {
    const body = await post(input);
    assert.equal(body.error.code, "invalid_input");
    assert.deepEqual(
      Object.keys(body.error.fields),
      [field],
      JSON.stringify(input).slice(0, 80),
    );
    assert.match(body.error.fields[field], message);
    assert.doesNotMatch(
      body.error.message,
      /Invalid input|expected \w+, received/,
    );
  }
  assert.equal(await countRows(t, "batches"), 0);
  assert.equal(await countRows(t, "items"), 0);
});

Deno.test("[api] GET /api/batches pages newest first with nextCursor; concurrent creates all succeed", async () => {
  await using t = await startTestApp();
  const first = await createBatchViaApi(t, { prompts: ["p0"], model: PRO });
  const cookie = first.cookie;
  const rest = await Promise.all(
    Array.from(
      { length: 11 },
      (_, i) =>
        createBatchViaApi(t, { prompts: [`p${i + 1}`], model: PRO }, {
          cookie,
        }),
    ),
  );
  const created = new Set([first.id, ...rest.map((r) => r.id)]);
  await createBatchViaApi(t, { prompts: ["another workspace"], model: PRO });

  const seen: Array<{ id: string; createdAt: string }> = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const page = await expectJson(
      await t.request(`/api/batches?limit=5${query}`, { headers: { cookie } }),
      200,
    );
    assert.ok(page.batches.length <= 5);
    seen.push(...page.batches);
    cursor = page.nextCursor;
    pages++;
  } while (cursor && pages < 10);
  assert.equal(pages, 3);
  assert.deepEqual(new Set(seen.map((b) => b.id)), created);
  assert.equal(seen.length, 12);
  const times = seen.map((b) => Date.parse(b.createdAt));
  assert.deepEqual(times, [...times].sort((a, b) => b - a));

  const defaults = await expectJson(
    await t.request("/api/batches", { headers: { cookie } }),
    200,
  );
  assert.equal(defaults.batches.length, 12);
  assert.equal(defaults.nextCursor, null);
  const search = await expectJson(
    await t.request("/api/batches?q=p11", { headers: { cookie } }),
    200,
  );
  assert.deepEqual(search.batches.map((b: { title: string }) => b.title), [
    "p11",
  ]);
});

Deno.test("[api] unknown API routes and batches answer JSON 404s", async () => {
  await using t = await startTestApp();
  const missing = "0123456789abcdefghij0123456789ab";
  for (
    const path of [
      "/api/nothing",
      `/api/batches/${missing}`,
      `/api/batches/${missing}/manifest.json`,
      `/api/batches/${missing}/download.zip`,
    ]
  ) {
    const body = await expectJson(await t.request(path), 404);
    assert.equal(body.error.code, "not_found", path);
  }
});
