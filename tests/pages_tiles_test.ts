/** [tiles] What a batch page's tiles carry: the whole prompt, the viewer's figures, readable errors. */
import assert from "node:assert/strict";
import {
  createBatchViaApi,
  readNdjson,
  startTestApp,
  TEST_KEY,
  type TestApp,
} from "./_helpers.ts";
import { expectHtml, text } from "./_html.ts";

const PRO = "gemini-3-pro-image";

// Long enough that any one-line caption would cut it.
const LONG_PROMPT =
  "a lighthouse on a basalt cliff at dusk, waves breaking below, gulls circling the lamp, " +
  "a thin crescent moon above the sea, painted in the style of a 1930s travel poster";
const BLOCKED_PROMPT = "a crowded harbour [block:IMAGE_PROHIBITED_CONTENT]";

/** Runs a batch of the two prompts to its end and returns its page. */
async function ranBatchPage(t: TestApp) {
  const { id, cookie } = await createBatchViaApi(t, {
    prompts: [LONG_PROMPT, BLOCKED_PROMPT],
    model: PRO,
    aspectRatio: "3:2",
    imageSize: "2K",
  });
  const run = await t.request(`/api/batches/${id}/run`, {
    method: "POST",
    headers: { cookie, "x-goog-api-key": TEST_KEY },
  });
  assert.equal(run.status, 200);
  await readNdjson(run);
  const { doc, html } = await expectHtml(
    await t.request(`/batches/${id}`, { headers: { cookie } }),
    200,
  );
  return { id, doc, html };
}

Deno.test("[tiles] a tile carries the whole prompt and the viewer's figures; the page holds the viewer", async () => {
  await using t = await startTestApp();
  const { id, doc } = await ranBatchPage(t);
  const [first] = doc.querySelectorAll(".tile");
  assert.ok(first, "a tile per item");
  assert.equal(text(first.querySelector("[data-viewer-prompt]")), LONG_PROMPT);

  const link = first.querySelector("a[data-viewer-image]");
  assert.ok(link, "the image link is marked for the viewer");
  const href = link.getAttribute("href") ?? "";
  assert.match(href, new RegExp(`^/images/${id}/[^/]+$`));
  assert.equal(link.getAttribute("data-viewer-position"), "#1.1");
  assert.match(link.getAttribute("data-viewer-cost") ?? "", /^\$\d/);
  assert.match(link.getAttribute("data-viewer-tokens") ?? "", /\d+ prompt/);
  assert.match(link.getAttribute("data-viewer-pixels") ?? "", /^\d+ × \d+ px$/);
  assert.equal(link.getAttribute("data-viewer-file"), href.split("/").at(-1));
  // Each row runs with its own settings: the tile carries them.
  assert.equal(link.getAttribute("data-viewer-model"), "Nano Banana Pro");
  assert.equal(link.getAttribute("data-viewer-ratio"), "3:2");
  assert.equal(link.getAttribute("data-viewer-size"), "2K");

  const viewer = doc.querySelector("dialog#viewer");
  assert.ok(viewer, "the batch page renders the viewer dialog");
  const facts = Object.fromEntries(
    [...viewer.querySelectorAll(".viewer-facts dt")].map((dt) => [
      text(dt),
      text(dt.nextElementSibling),
    ]),
  );
  // Filled from the shown tile by static/viewer.js.
  assert.ok(viewer.querySelector(".viewer-facts [data-viewer-slot=model]"));
  assert.ok(viewer.querySelector(".viewer-facts [data-viewer-slot=ratio]"));
  assert.ok(viewer.querySelector(".viewer-facts [data-viewer-slot=size]"));
  assert.match(
    facts.Cost ?? "",
    /estimated Google usage, not a BatchGen charge/,
  );
  const download = viewer.querySelector("a[data-viewer-slot=download]");
  assert.ok(download?.hasAttribute("download"), "a Download link");
  assert.ok(
    doc.querySelector('script[src="/static/viewer.js"]'),
    "the page loads the viewer script",
  );
});

Deno.test("[tiles] a long reason code wraps after its underscores, never mid-word", async () => {
  await using t = await startTestApp();
  const { doc } = await ranBatchPage(t);
  const blocked = doc.querySelector(".tile-blocked");
  assert.ok(blocked, "the blocked tile");
  const error = blocked.querySelector(".tile-error");
  assert.ok(error);
  assert.match(text(error), /IMAGE_PROHIBITED_CONTENT/);
  assert.match(
    error.innerHTML,
    /IMAGE_<wbr\s*\/?>PROHIBITED_<wbr\s*\/?>CONTENT/,
  );
  assert.equal(
    blocked.querySelector(".tile-placeholder")?.getAttribute("tabindex"),
    "0",
    "the reason can be focused to reveal all of it",
  );
  assert.equal(
    text(blocked.querySelector("[data-viewer-prompt]")),
    BLOCKED_PROMPT,
  );
  assert.equal(blocked.querySelector("[data-viewer-image]"), null);
});
