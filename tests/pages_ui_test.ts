/**
 * [ui] The batch pages say what is true (issue "A page people enjoy"): a page
 * opened during a run keeps itself fresh, blocked and failed are apart, a
 * finished batch's cost is no longer "so far", estimates follow the controls
 * shown, model labels agree with the price table, the cost disclaimer is
 * said once per page, and file errors come alone.
 */
import assert from "node:assert/strict";
import { createBatchViaApi, form, startTestApp, TEST_KEY } from "./_helpers.ts";
import {
  expectHtml,
  HTMX,
  newWorkspace,
  parse,
  postBatchForm,
  text,
} from "./_html.ts";
import { estimateImageUsd } from "../core/cost.ts";
import { KNOWN_MODELS } from "../core/catalog.ts";

const NB = "gemini-nano-banana-2.1";
const LITE = "gemini-3.1-flash-lite-image";

/** The new-batch form with no typed prompts, only `file`. */
function uploadOnly(file: File): FormData {
  const data = new FormData();
  data.set("prompts", "");
  data.set("model", NB);
  data.set("promptsFile", file);
  return data;
}

/** The text a person sees: no attributes, no tooltips, no closed dialogs. */
function visible(html: string): string {
  const doc = parse(html);
  for (const hidden of doc.querySelectorAll("dialog, template")) {
    hidden.remove();
  }
  return text(doc.querySelector("body") ?? doc);
}

Deno.test("[ui] a batch page opened during a run watches its summary, and once the run is over redraws the batch", async () => {
  await using t = await startTestApp();
  const batch = await createBatchViaApi(t, {
    prompts: ["a heron [slow:1500]"],
    model: NB,
  });
  const run = t.request(`/api/batches/${batch.id}/run`, {
    method: "POST",
    headers: { cookie: batch.cookie, "x-goog-api-key": TEST_KEY },
  });
  while (!t.deps.activeRuns.has(batch.id)) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const during = await expectHtml(
    await t.request(`/batches/${batch.id}`, {
      headers: { cookie: batch.cookie },
    }),
    200,
  );
  const summary = during.doc.querySelector(`#summary-${batch.id}`);
  assert.equal(
    summary?.getAttribute("hx-get"),
    `/batches/${batch.id}/summary?watch=1`,
  );
  assert.equal(summary?.getAttribute("hx-trigger"), "every 2s");
  const still = await t.request(`/batches/${batch.id}/summary?watch=1`, {
    headers: { cookie: batch.cookie },
  });
  assert.match(await still.text(), /every 2s/, "keeps watching while it runs");
  await (await run).text();
  const after = await t.request(`/batches/${batch.id}/summary?watch=1`, {
    headers: { cookie: batch.cookie },
  });
  const html = await after.text();
  assert.match(html, new RegExp(`hx-target="#batch-${batch.id}"`));
  assert.doesNotMatch(html, /every 2s/, "stops watching once it is over");
  assert.match(html, /Done/);
  // The page that started the run streams it: no watching there.
  const page = await expectHtml(
    await t.request(`/batches/${batch.id}`, {
      headers: { cookie: batch.cookie },
    }),
    200,
  );
  assert.equal(
    page.doc.querySelector(`#summary-${batch.id}`)?.getAttribute("hx-trigger"),
    null,
  );
});

Deno.test("[ui] blocked and failed are counted apart, and a finished batch's cost is not 'so far'", async () => {
  await using t = await startTestApp({ env: { BATCHGEN_MAX_ATTEMPTS: "1" } });
  const batch = await createBatchViaApi(t, {
    prompts: ["a fox", "an owl [block:IMAGE_SAFETY]", "a lark [status:500]"],
    model: NB,
  });
  await (await t.request(`/api/batches/${batch.id}/run`, {
    method: "POST",
    headers: { cookie: batch.cookie, "x-goog-api-key": TEST_KEY },
  })).text();
  const { doc } = await expectHtml(
    await t.request(`/batches/${batch.id}`, {
      headers: { cookie: batch.cookie },
    }),
    200,
  );
  const counts = (name: string) =>
    text(doc.querySelector(`#summary-${batch.id} [data-count=${name}]`));
  assert.equal(counts("succeeded"), "1 done");
  assert.equal(counts("failed"), "1 failed");
  assert.equal(counts("blocked"), "1 blocked by Google");
  const cost = text(doc.querySelector(`#summary-${batch.id} .cost`));
  assert.match(cost, /^Estimated Google usage: \$[\d.]+ of estimated/);
  assert.doesNotMatch(cost, /so far/);
});

Deno.test("[ui] the estimate prices the size the form will show: switching from Pro 4K to Lite is Lite at 1K", async () => {
  await using t = await startTestApp();
  const response = await t.request("/batches/estimate", {
    method: "POST",
    headers: { "HX-Request": "true" },
    body: form({ prompts: "a fox", model: LITE, imageSize: "4K" }),
  });
  const { doc } = await expectHtml(response, 200);
  const total = Number(
    doc.querySelector(".estimate-body")?.getAttribute("data-total"),
  );
  assert.equal(total, estimateImageUsd(LITE, "1K", "a fox".length));
  assert.doesNotMatch(text(doc), /price unknown/);
});

Deno.test("[ui] model labels carry prices from the price table and claim nothing it does not say", async () => {
  await using t = await startTestApp();
  const { doc } = await expectHtml(await t.request("/"), 200);
  const options = [...doc.querySelectorAll("select[name=model] option")];
  assert.equal(options.length, KNOWN_MODELS.length);
  for (const option of options) {
    const model = KNOWN_MODELS.find((m) =>
      m.id === option.getAttribute("value")
    )!;
    const usd = estimateImageUsd(model.id, model.defaultSize);
    assert.match(text(option), /≈\$[\d.]+ per \w+ image$/);
    assert.ok(text(option).includes(String(usd).slice(0, 5)), text(option));
    assert.doesNotMatch(text(option), /cheap/i);
  }
});

Deno.test("[ui] the cost disclaimer is said once per page", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const batch = await createBatchViaApi(t, { prompts: ["a fox"], model: NB }, {
    cookie,
  });
  for (const path of ["/", `/batches/${batch.id}`, "/history", "/key"]) {
    const html = await (await t.request(path, { headers: { cookie } })).text();
    const said = visible(html).match(/not a BatchGen charge/g) ?? [];
    assert.equal(said.length, 1, `${path}: said ${said.length} times`);
  }
});

Deno.test("[ui] a bad prompts file is the only error shown for it", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const data = uploadOnly(
    new File([new Uint8Array([0xff, 0xfe, 0x00])], "p.txt"),
  );
  const response = await postBatchForm(t, cookie, data, HTMX);
  const { doc } = await expectHtml(response, 422);
  const errors = [...doc.querySelectorAll(".field-error")].map(text);
  assert.deepEqual(errors, ["The file is not valid UTF-8 text."]);
});

Deno.test("[ui] a .jsonl of strings, {prompt} and {text} lines is read as the README says", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const data = uploadOnly(
    new File([
      '"a fox"\n{"prompt": "an owl"}\n{"text": "a lark"}\n',
    ], "p.jsonl"),
  );
  const response = await postBatchForm(t, cookie, data);
  assert.equal(response.status, 303, await response.clone().text());
  const id = response.headers.get("location")!.split("/").pop()!;
  const { doc } = await expectHtml(
    await t.request(`/batches/${id}`, { headers: { cookie } }),
    200,
  );
  const prompts = [...doc.querySelectorAll(".tile-prompt")].map(text);
  assert.deepEqual(prompts, ["a fox", "an owl", "a lark"]);
});
