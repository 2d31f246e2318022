/**
 * [gallery] Every image of the workspace across batches: newest first,
 * filtered by prompt text, model and batch status, paged with a cursor, and
 * never another workspace's.
 */
import assert from "node:assert/strict";
import { createBatchViaApi, startTestApp, type TestApp } from "./_helpers.ts";
import { runToEnd } from "./_engine.ts";
import {
  expectHtml,
  HTMX,
  newWorkspace,
  optionValues,
  query,
  selectedValue,
  text,
} from "./_html.ts";
import { KNOWN_MODELS } from "../core/catalog.ts";

const NANO = "gemini-nano-banana-2.1";
const PRO = "gemini-3-pro-image";

/** Creates a batch in the workspace of `cookie` and runs it to its end. */
async function runBatch(
  t: TestApp,
  cookie: string | undefined,
  body: Record<string, unknown>,
): Promise<{ id: string; cookie: string }> {
  const batch = await createBatchViaApi(
    t,
    { model: NANO, ...body },
    cookie ? { cookie } : {},
  );
  await runToEnd(t, batch);
  return batch;
}

interface Card {
  imageId: string;
  batchId: string;
  src: string;
  href: string;
  prompt: string;
  batchTitle: string;
  lazy: boolean;
}

function cards(doc: Document): Card[] {
  return [...doc.querySelectorAll("ul.gallery > li")].map((li) => ({
    imageId: li.id.replace(/^gallery-/, ""),
    batchId: li.getAttribute("data-batch") ?? "",
    src: li.querySelector("img")?.getAttribute("src") ?? "",
    href: li.querySelector("a.gallery-link")?.getAttribute("href") ?? "",
    prompt: text(li.querySelector(".gallery-prompt")),
    batchTitle: text(li.querySelector(".gallery-batch")),
    lazy: li.querySelector("img")?.getAttribute("loading") === "lazy",
  }));
}

async function gallery(t: TestApp, cookie: string, search = "") {
  return await expectHtml(
    await t.request(`/gallery${search}`, { headers: { cookie } }),
    200,
  );
}

function olderLink(doc: Document): string | null {
  const link = [...doc.querySelectorAll("main a")].find((a) =>
    text(a) === "Older images"
  );
  return link?.getAttribute("href") ?? null;
}

/** The workspace's image ids as the database orders them, newest first. */
async function imagesNewestFirst(t: TestApp, batchIds: string[]) {
  const rows = await query(
    t,
    `select id from images where batch_id in (${
      batchIds.map(() => "?").join(",")
    }) order by created_at desc, id desc`,
    batchIds,
  );
  return rows.map((r) => String(r.id));
}

Deno.test("[gallery] lists the workspace's images newest first: lazy thumbnails linking to their batch, with prompt and batch title", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const animals = await runBatch(t, cookie, {
    title: "Animals",
    prompts: ["a red fox", "a blue whale"],
  });
  const birds = await runBatch(t, cookie, {
    title: "Birds",
    prompts: ["a heron at dawn"],
    model: PRO,
  });

  const { doc } = await gallery(t, cookie);
  assert.equal(text(doc.querySelector("h1")), "Gallery");
  const shown = cards(doc);
  assert.deepEqual(
    shown.map((c) => c.imageId),
    await imagesNewestFirst(t, [animals.id, birds.id]),
  );
  assert.equal(shown.length, 3);
  assert.equal(shown[0]!.prompt, "a heron at dawn", "the newest batch first");
  assert.deepEqual(
    new Set(shown.slice(1).map((c) => c.prompt)),
    new Set(["a red fox", "a blue whale"]),
  );
  for (const card of shown) {
    const title = card.batchId === birds.id ? "Birds" : "Animals";
    assert.equal(card.batchTitle, title);
    assert.ok(card.lazy, "loading=lazy");
    assert.match(card.src, new RegExp(`^/images/${card.batchId}/[\\w.-]+$`));
    assert.match(card.href, new RegExp(`^/batches/${card.batchId}(#|$)`));
    const image = await t.request(card.src, { headers: { cookie } });
    assert.equal(image.status, 200, card.src);
    assert.match(image.headers.get("content-type") ?? "", /^image\//);
    await image.body?.cancel();
  }
  // The whole prompt is the image's text alternative (a prompt can be long).
  assert.equal(
    doc.querySelector("ul.gallery img")?.getAttribute("alt"),
    "a heron at dawn",
  );
  // The Gallery link is in the navigation, after History.
  assert.deepEqual(
    [...doc.querySelectorAll("nav a")].map((a) => a.getAttribute("href")),
    ["/", "/history", "/gallery", "/key"],
  );

  // htmx navigation gets only main's content.
  const fragment = await expectHtml(
    await t.request("/gallery", { headers: { cookie, ...HTMX } }),
    200,
  );
  assert.doesNotMatch(fragment.html, /<html/i);
  assert.equal(cards(fragment.doc).length, 3);
});

Deno.test("[gallery] filters by prompt text, model and batch status with a GET form that keeps its values", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  await runBatch(t, cookie, {
    title: "Fauna",
    prompts: ["a red fox", "a 100% blue whale"],
  });
  // One image blocked: the batch finishes with failures ("partial").
  const birds = await runBatch(t, cookie, {
    title: "Birds",
    prompts: ["a heron [block:IMAGE_SAFETY]", "a heron in reeds"],
    model: PRO,
  });
  const status = await query(t, "select status from batches where id = ?", [
    birds.id,
  ]);
  assert.equal(status[0]?.status, "partial");

  const prompts = async (search: string) =>
    cards((await gallery(t, cookie, search)).doc).map((c) => c.prompt).sort();
  assert.deepEqual(await prompts("?q=FOX"), ["a red fox"]);
  assert.deepEqual(await prompts("?q=%20heron%20"), ["a heron in reeds"]);
  assert.deepEqual(await prompts("?q=100%25"), ["a 100% blue whale"]);
  assert.deepEqual(await prompts("?q=%25"), ["a 100% blue whale"]); // literal
  assert.deepEqual(await prompts("?q=_"), []);
  assert.deepEqual(await prompts(`?model=${PRO}`), ["a heron in reeds"]);
  assert.deepEqual(await prompts(`?model=models/${PRO}`), ["a heron in reeds"]);
  assert.deepEqual(await prompts("?status=partial"), ["a heron in reeds"]);
  assert.deepEqual(await prompts("?status=done"), [
    "a 100% blue whale",
    "a red fox",
  ]);
  assert.deepEqual(await prompts(`?status=done&model=${PRO}`), []);
  assert.deepEqual(await prompts(`?q=&model=&status=`), [
    "a 100% blue whale",
    "a heron in reeds",
    "a red fox",
  ]);

  // The form works without JS (GET /gallery) and shows what it filters by.
  const { doc } = await gallery(
    t,
    cookie,
    `?q=heron&model=${PRO}&status=partial`,
  );
  const form = doc.querySelector("main form");
  assert.equal(form?.getAttribute("method"), "get");
  assert.equal(form?.getAttribute("action"), "/gallery");
  assert.equal(
    doc.querySelector("input[name=q]")?.getAttribute("value"),
    "heron",
  );
  assert.deepEqual(optionValues(doc, "model"), [
    "",
    ...KNOWN_MODELS.map((m) => m.id),
  ]);
  assert.equal(selectedValue(doc, "model"), PRO);
  assert.equal(selectedValue(doc, "status"), "partial");
  const words = [...doc.querySelectorAll("select[name=status] option")].map(
    text,
  );
  assert.ok(words.includes("Finished with failures"), words.join());
  assert.ok(words.includes("Done"));
  assert.ok(words.includes("Interrupted"));
  assert.equal(cards(doc).length, 1);

  const none = await gallery(t, cookie, "?q=nothing-like-this");
  assert.match(text(none.doc.querySelector("main")), /No image matches/);
  assert.ok(none.doc.querySelector("main a[href='/gallery']"), "Show all");
});

Deno.test("[gallery] pages by 24 with an 'Older images' link that keeps the filters; a bad cursor, model or status is a 400 page", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const kites = await runBatch(t, cookie, {
    prompts: ["kite 1", "kite 2", "kite 3", "kite 4", "kite 5"],
    imagesPerPrompt: 6,
    concurrency: 8,
  });

  const first = await gallery(t, cookie, "?q=kite&status=done");
  const page1 = cards(first.doc).map((c) => c.imageId);
  assert.equal(page1.length, 24);
  const older = olderLink(first.doc);
  assert.ok(older, "an Older images link");
  const url = new URL(older, "http://x");
  assert.equal(url.pathname, "/gallery");
  assert.equal(url.searchParams.get("q"), "kite");
  assert.equal(url.searchParams.get("status"), "done");
  assert.equal(url.searchParams.has("model"), false);
  assert.match(url.searchParams.get("cursor") ?? "", /^\d+_[0-9a-z]+$/);

  const second = await expectHtml(
    await t.request(older, { headers: { cookie, ...HTMX } }),
    200,
  );
  const page2 = cards(second.doc).map((c) => c.imageId);
  assert.equal(page2.length, 6);
  assert.equal(olderLink(second.doc), null);
  assert.deepEqual(
    [...page1, ...page2],
    await imagesNewestFirst(t, [kites.id]),
    "every image once, newest first",
  );

  for (
    const [search, message] of [
      ["?cursor=nope", /cursor is not valid/],
      ["?cursor=1'%20or%201=1", /cursor is not valid/],
      ["?cursor=12_", /cursor is not valid/],
      ["?model=gpt-image", /Unknown model/],
      ["?status=sleeping", /Unknown status/],
    ] as const
  ) {
    const bad = await expectHtml(
      await t.request(`/gallery${search}`, { headers: { cookie } }),
      400,
    );
    assert.match(text(bad.doc.querySelector("main")), message, search);
  }
  const badFragment = await t.request("/gallery?cursor=nope", {
    headers: { cookie, ...HTMX },
  });
  assert.equal(badFragment.status, 400);
  await badFragment.body?.cancel();
});

Deno.test("[gallery] another workspace sees none of them, not even through a search or a history row", async () => {
  await using t = await startTestApp();
  const mine = await newWorkspace(t);
  const other = await newWorkspace(t);
  const batch = await runBatch(t, mine, {
    title: "Private",
    prompts: ["a secret garden"],
  });
  assert.equal(cards((await gallery(t, mine)).doc).length, 1);

  for (const search of ["", "?q=secret", `?model=${NANO}`, "?status=done"]) {
    const { doc, html } = await gallery(t, other, search);
    assert.deepEqual(cards(doc), [], search);
    assert.ok(!html.includes(batch.id), `no trace of the batch: ${search}`);
    assert.ok(!html.includes("secret garden"));
  }
  assert.match(
    text((await gallery(t, other)).doc.querySelector("main")),
    /No images yet/,
  );
  // A third workspace made through the API (no cookie) sees none either.
  const third = await runBatch(t, undefined, { prompts: ["a third thing"] });
  const thirds = cards((await gallery(t, third.cookie)).doc);
  assert.deepEqual(thirds.map((c) => c.batchId), [third.id]);

  const row = await t.request(`/history/rows/${batch.id}`, {
    headers: { cookie: other, "HX-Request": "true" },
  });
  assert.equal(row.status, 200);
  assert.equal(await row.text(), "", "another workspace's row is empty");
});
