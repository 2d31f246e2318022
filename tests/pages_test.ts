/** [pages] The HTML side: new-batch form, assets, options, estimate, creating batches. */
import assert from "node:assert/strict";
import { startTestApp } from "./_helpers.ts";
import {
  countRows,
  expectHtml,
  HTMX,
  itemPrompts,
  newWorkspace,
  optionValues,
  postBatchForm,
  query,
  redirectedBatchId,
  selectedValue,
  text,
} from "./_html.ts";
import {
  DEFAULT_MODEL_ID,
  EXTENDED_RATIOS,
  KNOWN_MODELS,
  STANDARD_RATIOS,
} from "../core/catalog.ts";
import {
  COST_LABEL,
  estimateBatch,
  formatUsd,
  PRICE_LIST_DATE,
} from "../core/cost.ts";

const PRO = "gemini-3-pro-image";
const LITE = "gemini-3.1-flash-lite-image";

Deno.test("[pages] GET / renders the form: empty password key field, models, default options, safe scripts", async () => {
  await using t = await startTestApp();
  const response = await t.request("/");
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
  assert.equal(response.headers.get("cache-control"), "no-store");
  const csp = response.headers.get("content-security-policy") ?? "";
  assert.match(csp, /(^|;)\s*script-src 'self'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  const { doc, html } = await expectHtml(response, 200);
  assert.match(html, /^<!DOCTYPE html>/i);

  const key = doc.querySelector("input#api-key");
  assert.ok(key, "the key field is on the page");
  assert.equal(key.getAttribute("type"), "password");
  assert.equal(key.getAttribute("autocomplete"), "off");
  assert.equal(key.hasAttribute("value"), false);
  assert.doesNotMatch(
    html.match(/<input[^>]*id="api-key"[^>]*>/)![0],
    /value=/,
  );
  assert.match(text(doc.querySelector(".keybar")), /Kept only in this tab/);

  assert.deepEqual(optionValues(doc, "model"), KNOWN_MODELS.map((m) => m.id));
  assert.equal(selectedValue(doc, "model"), DEFAULT_MODEL_ID);
  const defaults = KNOWN_MODELS.find((m) => m.id === DEFAULT_MODEL_ID)!;
  assert.deepEqual(optionValues(doc, "aspectRatio"), [...EXTENDED_RATIOS]);
  assert.deepEqual(optionValues(doc, "imageSize"), [...defaults.imageSizes]);
  assert.equal(doc.querySelector("textarea[name=prompts]")?.textContent, "");
  assert.ok(doc.querySelector("input[type=file][name=promptsFile]"));

  const scripts = [...doc.querySelectorAll("script")];
  assert.deepEqual(scripts.map((s) => s.getAttribute("src")), [
    "/static/htmx.min.js",
    "/static/hx-sse.js",
    "/static/key_field.js",
    "/static/viewer.js",
  ]);
  for (const script of scripts) assert.equal(script.textContent?.trim(), "");
  const inlineHandlers = [...doc.querySelectorAll("*")].flatMap((el) =>
    [...el.attributes].filter((a) => /^on/i.test(a.name)).map((a) => a.name)
  );
  assert.deepEqual(inlineHandlers, []);
  for (const script of scripts) {
    const asset = await t.request(script.getAttribute("src")!);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get("content-type") ?? "", /^text\/javascript/);
    // The real files, not an empty answer (key_field.js is a few lines).
    assert.ok((await asset.text()).length > 100);
  }
});

Deno.test("[pages] GET /batches/options offers only what the model supports; unknown model → defaults", async () => {
  await using t = await startTestApp();
  const lite = await expectHtml(
    await t.request(`/batches/options?model=${LITE}`),
    200,
  );
  assert.deepEqual(optionValues(lite.doc, "imageSize"), ["1K"]);
  assert.deepEqual(optionValues(lite.doc, "aspectRatio"), [...STANDARD_RATIOS]);
  assert.equal(STANDARD_RATIOS.length, 10);
  assert.ok(lite.doc.querySelector("#model-options"));

  const unknown = await expectHtml(
    await t.request("/batches/options?model=imagen-9"),
    200,
  );
  const defaults = KNOWN_MODELS.find((m) => m.id === DEFAULT_MODEL_ID)!;
  assert.deepEqual(optionValues(unknown.doc, "aspectRatio"), [
    ...defaults.aspectRatios,
  ]);
  assert.deepEqual(optionValues(unknown.doc, "imageSize"), [
    ...defaults.imageSizes,
  ]);
});

Deno.test("[pages] POST /batches/estimate: 3 prompts × 2 images on Pro 1K, with the price-list date", async () => {
  await using t = await startTestApp();
  const prompts = ["red fox!", "blue owl", "grey cat"]; // 8 chars → 2 input tokens
  const response = await t.request("/batches/estimate", {
    method: "POST",
    body: new URLSearchParams({
      prompts: prompts.join("\n"),
      model: PRO,
      aspectRatio: "1:1",
      imageSize: "1K",
      imagesPerPrompt: "2",
    }),
  });
  const { doc } = await expectHtml(response, 200);
  const estimate = estimateBatch({
    model: PRO,
    imageSize: "1K",
    prompts,
    imagesPerPrompt: 2,
  });
  // By hand: 1120 image tokens × $120/1M = $0.1344, plus 2 input tokens ×
  // $2/1M = $0.000004 → $0.134404 per image; × 6 images = $0.806424.
  assert.equal(estimate.images, 6);
  assert.ok(Math.abs(estimate.totalUsd! - 0.806424) < 1e-12);
  assert.ok(Math.abs(estimate.perImageUsd! - 0.134404) < 1e-12);
  const body = text(doc);
  assert.match(body, /3 prompts × 2 images = 6 images/);
  assert.match(body, /about \$0\.134 per image, \$0\.806 in total/);
  assert.ok(body.includes(formatUsd(estimate.totalUsd)));
  assert.equal(
    Number(doc.querySelector(".estimate-body")?.getAttribute("data-total")),
    estimate.totalUsd,
  );
  const label = doc.querySelector(".estimate-body")?.getAttribute("title");
  assert.equal(label, COST_LABEL, "labelled (its tooltip)");
  assert.match(label ?? "", new RegExp(`prices as of ${PRICE_LIST_DATE}`));
  assert.match(PRICE_LIST_DATE, /^\d{4}-\d{2}-\d{2}$/);
});

Deno.test("[pages] POST /batches from htmx: 201 batch fragment with a run starter that includes the key field", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const response = await postBatchForm(t, cookie, {
    prompts: "a red fox\n\n  a blue whale  \na green frog",
    model: PRO,
    aspectRatio: "16:9",
    imageSize: "2K",
    imagesPerPrompt: "2",
    concurrency: "3",
    title: "Animals",
  }, HTMX);
  assert.equal(response.status, 201);
  assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
  const pushed = response.headers.get("hx-push-url") ?? "";
  const id = pushed.match(/^\/batches\/([0-9a-z]{32,})$/)?.[1];
  assert.ok(id, `HX-Push-Url names the batch: ${pushed}`);
  const { doc, html } = await expectHtml(response, 201);
  assert.doesNotMatch(html, /<html|<!DOCTYPE/i);
  assert.equal(text(doc.querySelector("h1")), "Animals");
  assert.equal(doc.querySelectorAll(`#grid-${id} .tile`).length, 6);

  const partial = doc.querySelector('hx-partial[hx-target="#activity"]');
  assert.ok(partial, "a partial for the activity region");
  const starter = partial.querySelector(`#run-${id}`);
  assert.ok(starter, "the run starter");
  assert.equal(
    starter.getAttribute("hx-post"),
    `/batches/${id}/run?mode=resume`,
  );
  assert.equal(starter.getAttribute("hx-trigger"), "load");
  assert.equal(starter.getAttribute("hx-include"), "#api-key");

  assert.deepEqual(await itemPrompts(t, id), [
    [0, 0, "a red fox"],
    [0, 1, "a red fox"],
    [1, 0, "a blue whale"],
    [1, 1, "a blue whale"],
    [2, 0, "a green frog"],
    [2, 1, "a green frog"],
  ]);
  const [stored] = await query(
    t,
    "select model, settings, status from batches where id = ?",
    [id],
  );
  assert.equal(stored?.model, PRO);
  assert.equal(stored?.status, "draft");
  assert.deepEqual(JSON.parse(String(stored?.settings)), {
    aspectRatio: "16:9",
    imageSize: "2K",
    imagesPerPrompt: 2,
    concurrency: 3,
  });
});

Deno.test("[pages] POST /batches plain form → 303 to the batch page; uploads .txt, .csv, .jsonl", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const plain = await postBatchForm(t, cookie, {
    prompts: "one\ntwo",
    model: LITE,
    aspectRatio: "3:4",
    imageSize: "1K",
    imagesPerPrompt: "3",
  });
  await plain.body?.cancel();
  const plainId = redirectedBatchId(plain);
  assert.deepEqual(
    (await itemPrompts(t, plainId)).map(([p, i, s]) => `${p}.${i} ${s}`),
    ["0.0 one", "0.1 one", "0.2 one", "1.0 two", "1.1 two", "1.2 two"],
  );
  const page = await expectHtml(
    await t.request(`/batches/${plainId}`, { headers: { cookie } }),
    200,
  );
  assert.equal(page.doc.querySelectorAll(".tile").length, 6);

  const uploads: Array<[string, string, string[]]> = [
    ["prompts.txt", "first line\r\n\r\nsecond line\n", [
      "first line",
      "second line",
    ]],
    [
      "prompts.csv",
      'name,prompt\nfox,"a fox, in snow"\nhi,"say ""hi"""\n',
      ["a fox, in snow", 'say "hi"'],
    ],
    ["prompts.jsonl", '"plain string"\n{"prompt": "from object"}\n', [
      "plain string",
      "from object",
    ]],
  ];
  for (const [name, content, expected] of uploads) {
    const body = new FormData();
    body.set("prompts", "typed first");
    body.set("model", PRO);
    body.set("aspectRatio", "1:1");
    body.set("imageSize", "1K");
    body.set("imagesPerPrompt", "2");
    body.set("promptsFile", new File([content], name));
    const response = await postBatchForm(t, cookie, body, HTMX);
    const { doc } = await expectHtml(response, 201);
    const id = response.headers.get("hx-push-url")?.split("/").pop() ?? "";
    const prompts = ["typed first", ...expected];
    assert.deepEqual(
      await itemPrompts(t, id),
      prompts.flatMap((p, i) => [[i, 0, p], [i, 1, p]]),
      name,
    );
    assert.equal(doc.querySelectorAll(".tile").length, prompts.length * 2);
  }
  assert.equal(await countRows(t, "batches"), 4);
});

Deno.test("[pages] GET /batches/:id: full page, htmx fragment, and full page on history restore", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const created = await postBatchForm(t, cookie, {
    prompts: "a lighthouse",
    model: PRO,
  });
  await created.body?.cancel();
  const id = redirectedBatchId(created);

  const full = await t.request(`/batches/${id}`, { headers: { cookie } });
  assert.match(full.headers.get("vary") ?? "", /HX-Request/);
  const fullPage = await expectHtml(full, 200);
  assert.match(fullPage.html, /^<!DOCTYPE html><html/i);
  assert.ok(fullPage.doc.querySelector("input#api-key"));
  assert.equal(text(fullPage.doc.querySelector("main h1")), "a lighthouse");

  const fragment = await expectHtml(
    await t.request(`/batches/${id}`, { headers: { cookie, ...HTMX } }),
    200,
  );
  assert.doesNotMatch(fragment.html, /<html|<body|api-key/i);
  assert.equal(
    text(fragment.doc.querySelector("title")),
    "a lighthouse · BatchGen",
  );
  assert.equal(text(fragment.doc.querySelector("h1")), "a lighthouse");

  const restore = await expectHtml(
    await t.request(`/batches/${id}`, {
      headers: { cookie, ...HTMX, "HX-History-Restore-Request": "true" },
    }),
    200,
  );
  assert.match(restore.html, /^<!DOCTYPE html><html/i);
  assert.ok(restore.doc.querySelector("main#main h1"));
});

Deno.test("[pages] GET /key explains the key policy; an unknown page is a 404 page", async () => {
  await using t = await startTestApp();
  const key = await expectHtml(await t.request("/key"), 200);
  assert.equal(
    text(key.doc.querySelector("main h1")),
    "How your key is handled",
  );
  assert.match(text(key.doc.querySelector("main")), /never stores your key/);
  assert.match(text(key.doc.querySelector("main")), /x-goog-api-key/);

  const missing = await expectHtml(await t.request("/no/such/page"), 404);
  assert.equal(text(missing.doc.querySelector("main h1")), "Not found");
  assert.match(
    text(missing.doc.querySelector("main")),
    /There is no such page/,
  );
  const batch = await expectHtml(
    await t.request("/batches/0123456789abcdefghij0123456789ab"),
    404,
  );
  assert.match(text(batch.doc.querySelector("main")), /no such batch/);
});
