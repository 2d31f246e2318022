/** [pages] History (order, search, pagination), re-run prefill and delete. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createBatchViaApi, startTestApp, TEST_KEY } from "./_helpers.ts";
import {
  countRows,
  expectHtml,
  HTMX,
  newWorkspace,
  optionValues,
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
