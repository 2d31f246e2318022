/**
 * [pages] History (order, search, pagination, thumbnails, live rows), re-run
 * prefill and delete.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createBatchViaApi, startTestApp, TEST_KEY } from "./_helpers.ts";
import { readUntil, type RunEvent, startRun } from "./_engine.ts";
import {
  countRows,
  expectHtml,
  HTMX,
  newWorkspace,
  optionValues,
  parse,
  query,
  selectedValue,
  text,
  textareaValue,
  tick,
} from "./_html.ts";

const PRO = "gemini-3-pro-image";

function historyIds(doc: Document): string[] {
  return [...doc.querySelectorAll("table.history tbody tr")].map((row) =>
    row.id.replace(/^history-/, "")
  );
}

function olderLink(doc: Document): string | null {
  const link = [...doc.querySelectorAll("main a")].find((a) =>
    text(a) === "Older batches"
  );
  return link?.getAttribute("href") ?? null;
}

Deno.test("[pages] history lists the workspace's batches newest first and searches prompts and titles", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const ids: string[] = [];
  const specs = [
    { title: "Zoo day", prompts: ["a zebra at noon", "a lion"] },
    { title: "Harbour", prompts: ["boats at dusk"] },
    { title: "", prompts: ["100% cotton shirt"] },
  ];
  for (const spec of specs) {
    ids.push(
      (await createBatchViaApi(t, { ...spec, model: PRO }, { cookie })).id,
    );
    await tick();
  }
  const other = await createBatchViaApi(t, {
    prompts: ["a zebra elsewhere"],
    model: PRO,
  });

  const all = await expectHtml(
    await t.request("/history", { headers: { cookie } }),
    200,
  );
  assert.deepEqual(historyIds(all.doc), [...ids].reverse());
  assert.equal(olderLink(all.doc), null);
  const cells = [
    ...all.doc.querySelectorAll(`#history-${ids[0]} td`),
  ].map(text);
  assert.deepEqual(cells.slice(0, 4), [
    "Zoo day",
    "Not started",
    "0/2",
    "Nano Banana Pro",
  ]);
  assert.match(cells[4]!, /^\$0\.00 of est\. \$0\.269$/);
  // Not run yet: no image, so a placeholder instead of a thumbnail.
  assert.ok(all.doc.querySelector(`#history-${ids[0]} .history-nothumb`));
  assert.equal(all.doc.querySelector(`#history-${ids[0]} img`), null);
  assert.ok(!historyIds(all.doc).includes(other.id));

  const search = async (q: string) =>
    historyIds(
      (await expectHtml(
        await t.request(`/history?q=${encodeURIComponent(q)}`, {
          headers: { cookie },
        }),
        200,
      )).doc,
    );
  assert.deepEqual(await search("ZEBRA"), [ids[0]]); // prompt text, any case
  assert.deepEqual(await search("harbour"), [ids[1]]); // title only
  assert.deepEqual(await search(" at "), [ids[1], ids[0]]); // trimmed
  assert.deepEqual(await search("100%"), [ids[2]]);
  assert.deepEqual(await search("%"), [ids[2]]); // a literal %, not a wildcard
  assert.deepEqual(await search("_"), []);
  const none = await expectHtml(
    await t.request("/history?q=nothing-like-this", { headers: { cookie } }),
    200,
  );
  assert.match(text(none.doc.querySelector("main")), /No batch matches/);
  assert.equal(
    none.doc.querySelector("input[name=q]")?.getAttribute("value"),
    "nothing-like-this",
  );
});

Deno.test("[pages] history pages by 20 with an 'Older batches' link, even for batches made in the same millisecond", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const created = await Promise.all(
    Array.from(
      { length: 25 },
      (_, i) =>
        createBatchViaApi(t, { prompts: [`batch ${i}`], model: PRO }, {
          cookie,
        }),
    ),
  );
  assert.equal(await countRows(t, "batches"), 25);

  const first = await expectHtml(
    await t.request("/history", { headers: { cookie } }),
    200,
  );
  const page1 = historyIds(first.doc);
  assert.equal(page1.length, 20);
  const older = olderLink(first.doc);
  assert.ok(older, "an Older batches link");
  assert.match(older, /^\/history\?cursor=/);

  const second = await expectHtml(
    await t.request(older, { headers: { cookie, ...HTMX } }),
    200,
  );
  const page2 = historyIds(second.doc);
  assert.equal(page2.length, 5);
  assert.equal(olderLink(second.doc), null);
  assert.deepEqual(
    new Set([...page1, ...page2]),
    new Set(created.map((c) => c.id)),
  );

  const times = async (ids: string[]) =>
    await Promise.all(ids.map(async (id) => {
      const r = await t.request(`/api/batches/${id}`, { headers: { cookie } });
      return Date.parse((await r.json()).createdAt);
    }));
  const stamps = await times([...page1, ...page2]);
  assert.deepEqual(stamps, [...stamps].sort((a, b) => b - a), "newest first");
});

Deno.test("[pages] history shows each batch's first saved image as its thumbnail, a placeholder before any", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const done = await createBatchViaApi(t, {
    prompts: ["a kite", "a sail", "a gull"],
    model: PRO,
  }, { cookie });
  const run = await t.request(`/api/batches/${done.id}/run`, {
    method: "POST",
    headers: { cookie, "x-goog-api-key": TEST_KEY },
  });
  await run.text();
  const draft = await createBatchViaApi(t, { prompts: ["later"], model: PRO }, {
    cookie,
  });
  const [first] = await query(
    t,
    "select file_name from images where batch_id = ? order by created_at, id limit 1",
    [done.id],
  );
  assert.ok(first, "the run saved images");

  const { doc } = await expectHtml(
    await t.request("/history", { headers: { cookie } }),
    200,
  );
  const thumbs = [...doc.querySelectorAll(`#history-${done.id} img`)];
  assert.equal(thumbs.length, 1, "one thumbnail per batch");
  const src = thumbs[0]!.getAttribute("src")!;
  assert.equal(src, `/images/${done.id}/${first.file_name}`);
  assert.equal(thumbs[0]!.getAttribute("loading"), "lazy");
  assert.equal(
    thumbs[0]!.closest("a")?.getAttribute("href"),
    `/batches/${done.id}`,
  );
  const image = await t.request(src, { headers: { cookie } });
  assert.equal(image.status, 200);
  await image.body?.cancel();
  assert.equal(doc.querySelector(`#history-${draft.id} img`), null);
  assert.ok(doc.querySelector(`#history-${draft.id} .history-nothumb`));
  // The first cell still reads as the batch's title.
  assert.equal(
    text(doc.querySelector(`#history-${done.id} td`)),
    "a kite (+2)",
  );
});

Deno.test("[pages] a running batch's history row polls its own fragment and stops once the batch is done", async () => {
  await using t = await startTestApp();
  const batch = await createBatchViaApi(t, {
    title: "Slow birds",
    prompts: ["a heron [slow:1500]"],
    model: PRO,
  });
  const { cookie } = batch;
  const row = async (path: string, headers: Record<string, string> = {}) => {
    const { doc } = await expectHtml(
      await t.request(path, { headers: { cookie, ...headers } }),
      200,
    );
    const tr = doc.querySelector(`tr#history-${batch.id}`);
    assert.ok(tr, `the row in ${path}`);
    return tr;
  };
  const idle = await row("/history");
  assert.equal(idle.hasAttribute("hx-trigger"), false, "a draft does not poll");

  const response = await startRun(t, batch);
  const reader = response.body!.pipeThrough(new TextDecoderStream())
    .getReader();
  const seen: RunEvent[] = [];
  const buffer = { text: "" };
  await readUntil(reader, seen, (e) => e.type === "item-started", buffer);

  const running = await row("/history");
  assert.equal(running.getAttribute("hx-get"), `/history/rows/${batch.id}`);
  assert.equal(running.getAttribute("hx-trigger"), "every 3s");
  assert.equal(running.getAttribute("hx-swap"), "outerHTML");
  assert.equal(text(running.querySelector(".badge")), "Running");
  // The fragment is the row alone, polling again while the batch runs.
  const fragment = await t.request(`/history/rows/${batch.id}`, {
    headers: { cookie, "HX-Request": "true" },
  });
  const html = await fragment.text();
  assert.equal(fragment.status, 200);
  assert.match(html, /^<tr /);
  const polled = parse(`<table><tbody>${html}</tbody></table>`)
    .querySelector(`tr#history-${batch.id}`);
  assert.equal(polled?.getAttribute("hx-trigger"), "every 3s");
  assert.equal(text(polled?.querySelector(".badge")), "Running");

  await readUntil(reader, seen, () => false, buffer); // to the end
  const after = await t.request(`/history/rows/${batch.id}`, {
    headers: { cookie, "HX-Request": "true" },
  });
  const finished = parse(`<table><tbody>${await after.text()}</tbody></table>`)
    .querySelector(`tr#history-${batch.id}`);
  assert.ok(finished);
  assert.equal(finished.hasAttribute("hx-trigger"), false, "polling stops");
  assert.equal(finished.hasAttribute("hx-get"), false);
  assert.equal(text(finished.querySelector(".badge")), "Done");
  assert.ok(finished.querySelector("img"), "now with its thumbnail");
  assert.equal(text(finished.querySelectorAll("td")[2]), "1/1");

  // Opened directly (not by htmx), the fragment's address shows History.
  const direct = await t.request(`/history/rows/${batch.id}`, {
    headers: { cookie },
  });
  assert.equal(direct.status, 303);
  assert.equal(direct.headers.get("location"), "/history");
  // A bad cursor is still a 400 page, never a 500.
  await expectHtml(
    await t.request("/history?cursor=12_%27", { headers: { cookie } }),
    400,
  );
});

Deno.test("[pages] re-run: GET /?from=<id> pre-fills prompts and settings, never the key", async () => {
  await using t = await startTestApp();
  const { id, cookie } = await createBatchViaApi(t, {
    title: "Banners <v2>",
    prompts: ["alpha", "beta & co", "alpha"],
    model: "gemini-3.1-flash-image",
    aspectRatio: "4:1",
    imageSize: "512",
    imagesPerPrompt: 3,
    concurrency: 2,
    budgetUsd: 1.5,
  });
  const { doc, html } = await expectHtml(
    await t.request(`/?from=${id}`, { headers: { cookie } }),
    200,
  );
  assert.equal(textareaValue(doc, "prompts"), "alpha\nbeta & co\nalpha");
  assert.equal(selectedValue(doc, "model"), "gemini-3.1-flash-image");
  assert.ok(optionValues(doc, "aspectRatio").includes("4:1"));
  assert.equal(selectedValue(doc, "aspectRatio"), "4:1");
  assert.deepEqual(optionValues(doc, "imageSize"), ["512", "1K", "2K", "4K"]);
  assert.equal(selectedValue(doc, "imageSize"), "512");
  const value = (name: string) =>
    doc.querySelector(`input[name=${name}]`)?.getAttribute("value");
  assert.equal(value("imagesPerPrompt"), "3");
  assert.equal(value("concurrency"), "2");
  assert.equal(value("title"), "Banners <v2>");
  assert.equal(value("budgetUsd"), "1.5");
  assert.equal(
    doc.querySelector("input#api-key")?.hasAttribute("value"),
    false,
  );
  assert.ok(!html.includes(TEST_KEY));

  const unknown = await expectHtml(
    await t.request("/?from=0000000000nosuchbatch0000000000", {
      headers: { cookie },
    }),
    200,
  );
  assert.equal(textareaValue(unknown.doc, "prompts"), "");
});

Deno.test("[pages] DELETE /batches/:id removes the rows and the image files; then 404", async () => {
  await using t = await startTestApp();
  const { id, cookie } = await createBatchViaApi(t, {
    prompts: ["a kite", "a sail"],
    model: PRO,
    imagesPerPrompt: 2,
  });
  const run = await t.request(`/api/batches/${id}/run`, {
    method: "POST",
    headers: { cookie, "x-goog-api-key": TEST_KEY },
  });
  assert.equal(run.status, 200);
  await run.text();
  const dir = join(t.config.imagesDir, id);
  const files = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assert.equal(files.length, 5, `4 images + manifest: ${files}`);
  assert.ok(files.includes("manifest.json"));
  assert.equal(await countRows(t, "images", "batch_id = ?", [id]), 4);

  const response = await t.request(`/batches/${id}`, {
    method: "DELETE",
    headers: { cookie, ...HTMX },
  });
  assert.equal(response.headers.get("hx-push-url"), "/history");
  const { doc } = await expectHtml(response, 200);
  assert.equal(text(doc.querySelector("h1")), "History");
  assert.match(
    text(doc.querySelector(".flash")),
    /“a kite \(\+1\)” and its images/,
  );

  assert.equal(await countRows(t, "batches", "id = ?", [id]), 0);
  assert.equal(await countRows(t, "items", "batch_id = ?", [id]), 0);
  assert.equal(await countRows(t, "images", "batch_id = ?", [id]), 0);
  assert.throws(() => Deno.statSync(dir), Deno.errors.NotFound);

  await expectHtml(
    await t.request(`/batches/${id}`, { headers: { cookie } }),
    404,
  );
  await expectHtml(
    await t.request(`/batches/${id}`, {
      method: "DELETE",
      headers: { cookie },
    }),
    404,
  );
  const image = await t.request(`/images/${id}/${files[0]}`, {
    headers: { cookie },
  });
  assert.equal(image.status, 404);
  await image.body?.cancel();
});
