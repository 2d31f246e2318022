/** [pages] Rejected new-batch forms (422, re-rendered, nothing stored) and escaping. */
import assert from "node:assert/strict";
import { startTestApp } from "./_helpers.ts";
import {
  countRows,
  expectHtml,
  HTMX,
  newWorkspace,
  postBatchForm,
  redirectedBatchId,
  text,
  textareaValue,
} from "./_html.ts";
import { LIMITS } from "../core/limits.ts";

const PRO = "gemini-3-pro-image";
const LITE = "gemini-3.1-flash-lite-image";
const KEPT = 'keep <b>me</b> & "quoted"';

interface Case {
  name: string;
  fields: Record<string, string>;
  file?: File;
  /** The input whose label shows the message; undefined: anywhere in the form. */
  field?: string;
  message: RegExp;
}

const base = { prompts: KEPT, model: PRO, aspectRatio: "1:1", imageSize: "1K" };

const CASES: Case[] = [
  {
    name: "empty prompts",
    fields: { ...base, prompts: "" },
    field: "prompts",
    message: /Write at least one prompt/,
  },
  {
    name: "whitespace-only prompts",
    fields: { ...base, prompts: "   \n\t\n  \r\n" },
    field: "prompts",
    message: /Write at least one prompt/,
  },
  {
    name: "1001 prompts",
    fields: {
      ...base,
      prompts: Array.from({ length: 1001 }, (_, i) => `p${i}`).join("\n"),
    },
    field: "prompts",
    message: /At most 1000 prompts per batch/,
  },
  {
    name: "a prompt over 4000 characters",
    fields: { ...base, prompts: `${KEPT}\n${"x".repeat(4001)}` },
    field: "prompts",
    message: /at most 4000 characters/,
  },
  {
    name: "unknown model",
    fields: { ...base, model: "imagen-9" },
    message: /Unknown model\. Choose one of: .*gemini-3-pro-image/,
  },
  {
    name: "ratio the model does not support",
    fields: { ...base, aspectRatio: "1:8" },
    message: /Nano Banana Pro supports the aspect ratios 1:1, .*21:9\./,
  },
  {
    name: "size the model does not support",
    fields: { ...base, model: LITE, imageSize: "4K" },
    message: /Nano Banana 2 Lite supports the image sizes 1K\./,
  },
  {
    name: "0 images per prompt",
    fields: { ...base, imagesPerPrompt: "0" },
    field: "imagesPerPrompt",
    message: /At least 1 image per prompt/,
  },
  {
    name: "11 images per prompt",
    fields: { ...base, imagesPerPrompt: "11" },
    field: "imagesPerPrompt",
    message: /At most 10 images per prompt/,
  },
  {
    name: '"abc" images per prompt',
    fields: { ...base, imagesPerPrompt: "abc" },
    field: "imagesPerPrompt",
    message: /^Images per prompt must be a whole number\.$/,
  },
  {
    name: "a bad CSV",
    fields: base,
    file: new File(['prompt\n"never closed\n'], "bad.csv"),
    field: "promptsFile",
    message: /Cannot read the CSV file/,
  },
  {
    name: "a non-UTF-8 upload",
    fields: base,
    file: new File([new Uint8Array([0x61, 0xff, 0xfe, 0x0a, 0xc3])], "p.txt"),
    field: "promptsFile",
    message: /not valid UTF-8/,
  },
  {
    name: "an upload over 1 MB",
    fields: base,
    file: new File(["a fox\n".repeat(Math.ceil(1_100_000 / 6))], "big.txt"),
    field: "promptsFile",
    message: /too large .*at most 1000000/,
  },
];

/** The message shown in the label of input `name`, or every form message. */
function messages(doc: Document, name?: string): string[] {
  const scope = name
    ? doc.querySelector(`[name=${name}]`)?.closest("label")
    : doc.querySelector("form#batch-form");
  assert.ok(scope, `a label for ${name}`);
  return [...scope.querySelectorAll(".field-error, .form-error")].map(text);
}

for (const c of CASES) {
  Deno.test(`[pages] invalid form: ${c.name} → 422, form kept, clear message, nothing stored`, async () => {
    await using t = await startTestApp();
    const cookie = await newWorkspace(t);
    let body: Record<string, string> | FormData = c.fields;
    if (c.file) {
      body = new FormData();
      for (const [k, v] of Object.entries(c.fields)) body.set(k, v);
      body.set("promptsFile", c.file);
    }
    const response = await postBatchForm(t, cookie, body);
    const { doc, html } = await expectHtml(response, 422);
    assert.match(html, /^<!DOCTYPE html>/i);
    const form = doc.querySelector("form#batch-form");
    assert.ok(form, "the form is shown again");
    assert.equal(
      doc.querySelector("input#api-key")?.hasAttribute("value"),
      false,
    );
    const shown = messages(doc, c.field);
    assert.equal(shown.length, 1, `one message: ${shown}`);
    assert.match(shown[0]!, c.message);
    assert.equal(textareaValue(doc, "prompts"), c.fields.prompts);
    if (c.fields.prompts?.includes(KEPT)) {
      assert.ok(html.includes("keep &lt;b&gt;me&lt;/b&gt; &amp;"));
      assert.equal(doc.querySelector("textarea b"), null);
    }
    assert.equal(await countRows(t, "batches"), 0);
    assert.equal(await countRows(t, "items"), 0);
  });
}

Deno.test("[pages] invalid form from htmx → 422 fragment for #main; several fields at once", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const response = await postBatchForm(t, cookie, {
    prompts: "",
    model: PRO,
    aspectRatio: "1:1",
    imagesPerPrompt: "11",
    concurrency: "99",
  }, HTMX);
  assert.equal(
    response.headers.get("hx-push-url"),
    "false",
    "a rejected form keeps the address bar on the form's page",
  );
  const { doc, html } = await expectHtml(response, 422);
  assert.doesNotMatch(html, /<html/i);
  assert.match(messages(doc, "prompts")[0]!, /Write at least one prompt/);
  assert.match(messages(doc, "imagesPerPrompt")[0]!, /At most 10/);
  assert.match(messages(doc, "concurrency")[0]!, /Parallel requests: 1 to 16/);
  assert.equal(
    doc.querySelector("input[name=imagesPerPrompt]")?.getAttribute("value"),
    "11",
  );
  assert.equal(await countRows(t, "batches"), 0);
});

Deno.test("[pages] a broken multipart body is a 400, not a server error", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  for (
    const type of ["multipart/form-data; boundary=zzz", "multipart/form-data"]
  ) {
    const response = await t.request("/batches", {
      method: "POST",
      headers: { cookie, "content-type": type },
      body: "this is not multipart",
    });
    assert.equal(response.status, 400);
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
    assert.match(await response.text(), /form data could not be read/);
  }
  assert.equal(await countRows(t, "batches"), 0);
  assert.equal(t.logs.filter((l) => l.includes('"error"')).length, 0);
});

Deno.test("[pages] a form over the body limit is a 413 with a message", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const response = await postBatchForm(t, cookie, {
    prompts: "a".repeat(LIMITS.formBodyBytes + 10),
    model: PRO,
  });
  assert.equal(response.status, 413);
  assert.match(await response.text(), /too large/);
  assert.equal(await countRows(t, "batches"), 0);
});

Deno.test("[pages] HTML in a prompt is shown escaped on the batch page and in history", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const evil = "<script>alert(1)</script><img src=x onerror=alert(1)>";
  const created = await postBatchForm(t, cookie, {
    prompts: evil,
    model: PRO,
    aspectRatio: "1:1",
  });
  await created.body?.cancel();
  const id = redirectedBatchId(created);
  for (const path of [`/batches/${id}`, "/history", `/?from=${id}`]) {
    const { doc, html } = await expectHtml(
      await t.request(path, { headers: { cookie } }),
      200,
    );
    assert.ok(!html.includes("<script>alert"), path);
    assert.ok(!html.includes("<img src=x"), path);
    assert.ok(html.includes("&lt;script&gt;alert(1)&lt;/script&gt;"), path);
    assert.equal(doc.querySelectorAll("script:not([src])").length, 0, path);
    assert.equal(doc.querySelectorAll("[onerror]").length, 0, path);
    assert.ok(
      text(doc.querySelector("main")).includes(evil) ||
        textareaValue(doc, "prompts") === evil,
      path,
    );
  }
  const page = await expectHtml(
    await t.request(`/batches/${id}`, { headers: { cookie } }),
    200,
  );
  assert.equal(text(page.doc.querySelector(".tile-prompt")), evil);
  assert.equal(text(page.doc.querySelector("main h1")), evil);
  const history = await expectHtml(
    await t.request("/history", { headers: { cookie } }),
    200,
  );
  assert.equal(text(history.doc.querySelector(`#history-${id} a`)), evil);
});
