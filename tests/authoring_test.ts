/**
 * [authoring] Batches the way power users write them (issue #11), through
 * the JSON API and the real generator against the fake: rows with their own
 * settings, reference images (a shared one uploaded once per run through the
 * Files API, a single-use one inline), templates, a matrix, a dry run, and
 * re-using a batch.
 */
import assert from "node:assert/strict";
import { pngBase64 } from "./fake_gemini/png.ts";
import { sha256Hex } from "./fake_gemini.ts";
import { startTestApp, TEST_KEY, type TestApp } from "./_helpers.ts";
import { newWorkspace, parse, text } from "./_html.ts";
import { generateRequests, runToEnd } from "./_engine.ts";

const MODEL = "gemini-nano-banana-2.1";
const PRO = "gemini-3-pro-image";
const JSON_TYPE = { "content-type": "application/json" };

/** A tiny JPEG: SOI, an APP0 header, EOI (enough for the magic bytes). */
const JPEG = new Uint8Array([
  0xff,
  0xd8,
  0xff,
  0xe0,
  0x00,
  0x10,
  0x4a,
  0x46,
  0x49,
  0x46,
  0x00,
  0x01,
  0x01,
  0x00,
  0x00,
  0x01,
  0x00,
  0x01,
  0x00,
  0x00,
  0xff,
  0xd9,
]);

async function png(
  rgb: [number, number, number],
): Promise<Uint8Array<ArrayBuffer>> {
  return Uint8Array.fromBase64(await pngBase64(8, 8, rgb));
}

interface Reference {
  id: string;
  name: string;
  sha256: string;
}

async function uploadReferences(
  t: TestApp,
  cookie: string,
  files: [string, Uint8Array][],
): Promise<Reference[]> {
  const data = new FormData();
  for (const [name, bytes] of files) {
    data.append("file", new File([bytes as BlobPart], name));
  }
  const response = await t.request("/api/references", {
    method: "POST",
    headers: { cookie },
    body: data,
  });
  assert.equal(response.status, 201, await response.clone().text());
  return (await response.json()).references;
}

async function postBatch(t: TestApp, cookie: string, body: unknown) {
  const response = await t.request("/api/batches", {
    method: "POST",
    headers: { ...JSON_TYPE, cookie },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

Deno.test("[authoring] rows run with their own settings; a shared reference is uploaded once per run, a single-use one goes inline", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const shared = await png([200, 40, 40]);
  const [sharedRef, singleRef] = await uploadReferences(t, cookie, [
    ["style.png", shared],
    ["bee.jpg", JPEG],
  ]);
  const created = await postBatch(t, cookie, {
    model: MODEL,
    references: [sharedRef!.id],
    rows: [
      {
        prompt: "a lighthouse",
        model: PRO,
        aspectRatio: "16:9",
        imageSize: "2K",
        imagesPerPrompt: 2,
      },
      { prompt: "a bee", references: [singleRef!.id], name: "bee" },
      { prompt: "a wren" },
    ],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.counts.items, 4);
  const batch = { id: created.body.id, cookie };
  const { batch: record } = await runToEnd(t, batch);
  assert.equal(record.counts.succeeded, 4, JSON.stringify(record));

  // One upload for the reference every request uses; deleted at the end.
  const files = t.fake.files();
  assert.equal(files.uploaded, 1, "the shared reference is uploaded once");
  assert.equal(files.deleted, 1, "and deleted when the run ends");
  assert.deepEqual(files.live, []);

  // K8: the Files API calls too carry the key in the header only.
  const filesCalls = t.fake.requests.filter((r) => r.path.includes("/files"));
  assert.ok(filesCalls.length >= 3, "start, upload and delete");
  for (const request of t.fake.requests) {
    assert.equal(request.headers["x-goog-api-key"], TEST_KEY);
    assert.ok(
      !JSON.stringify(request.query).includes(TEST_KEY.slice(3, 20)),
      "never in a URL",
    );
  }
  const requests = generateRequests(t.fake);
  assert.equal(requests.length, 4);
  const sharedSha = await sha256Hex(shared);
  for (const request of requests) {
    const images = request.inputImages ?? [];
    assert.ok(
      images.some((i) => i.kind === "file" && i.sha256 === sharedSha),
      "every request references the uploaded file",
    );
    // Image parts come before the text (gemini-api.md §2.2).
    const parts = (request.body as {
      contents: { parts: Record<string, unknown>[] }[];
    }).contents[0]!.parts;
    assert.ok("text" in parts.at(-1)!, "the prompt is the last part");
  }
  const bee = requests.find((r) => JSON.stringify(r.body).includes("a bee"))!;
  assert.deepEqual(
    bee.inputImages?.map((i) => [i.kind, i.sha256]),
    [["file", sharedSha], ["inline", await sha256Hex(JPEG)]],
    "the single-use reference is sent inline, after the shared one",
  );
  const pro = requests.filter((r) => r.path.includes(PRO));
  assert.equal(pro.length, 2, "row 1 runs on its own model");
  for (const request of pro) {
    const config = (request.body as {
      generationConfig: { imageConfig: Record<string, string> };
    }).generationConfig.imageConfig;
    assert.deepEqual(config, { aspectRatio: "16:9", imageSize: "2K" });
  }

  // The record and the manifest say what each item ran with.
  const items = record.items as unknown as Record<string, unknown>[];
  const first = items.find((i) => i.prompt === "a lighthouse")!;
  assert.equal(first.model, PRO);
  assert.equal(first.aspectRatio, "16:9");
  assert.equal(first.imageSize, "2K");
  assert.equal(first.row, 1);
  const beeItem = items.find((i) => i.prompt === "a bee")!;
  assert.deepEqual(beeItem.references, [sharedRef!.id, singleRef!.id]);
  assert.equal(beeItem.name, "bee");
  const manifest = await (await t.request(
    `/api/batches/${batch.id}/manifest.json`,
    { headers: { cookie } },
  )).json();
  assert.deepEqual(
    manifest.batch.references.map((r: Reference) => [r.name, r.sha256]),
    [["style.png", sharedRef!.sha256], ["bee.jpg", singleRef!.sha256]],
  );
  const beeEntry = manifest.items.find((i: { prompt: string }) =>
    i.prompt === "a bee"
  );
  assert.deepEqual(beeEntry.references.map((r: Reference) => r.name), [
    "style.png",
    "bee.jpg",
  ]);
  assert.match(beeEntry.downloadName, /^bee-1\.png$/);

  // The batch page shows the references it sends.
  const page = parse(
    await (await t.request(`/batches/${batch.id}`, { headers: { cookie } }))
      .text(),
  );
  assert.match(text(page.querySelector(".references-list")), /style\.png/);
});

Deno.test("[authoring] templates, sampling and a matrix expand before limits; a dry run saves nothing", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const dry = await postBatch(t, cookie, {
    model: MODEL,
    prompts: ["a {red|blue} __animal__"],
    expandTemplates: true,
    wildcards: { animal: ["fox", "owl", "hare"] },
    matrix: { model: [MODEL, PRO], aspectRatio: ["1:1", "16:9"] },
    dryRun: true,
  });
  assert.equal(dry.status, 200, JSON.stringify(dry.body));
  assert.equal(dry.body.itemCount, 2 * 3 * 2 * 2);
  assert.equal(dry.body.rows.length, 24);
  assert.equal(dry.body.rows[0].template, "a {red|blue} __animal__");
  assert.deepEqual(dry.body.rows[0].choices, ["red", "fox"]);
  assert.deepEqual(dry.body.rows[0].axis, {
    model: MODEL,
    aspectRatio: "1:1",
  });
  assert.deepEqual(
    dry.body.estimatedByModel.map((m: { model: string }) => m.model),
    [MODEL, PRO],
  );
  const listed = await (await t.request("/api/batches", {
    headers: { cookie },
  })).json();
  assert.equal(listed.batches.length, 0, "a dry run stores nothing");

  // Sampling: repeatable by seed, not every combination.
  const sample = (seed: number) =>
    postBatch(t, cookie, {
      model: MODEL,
      prompts: ["{a|b|c|d|e|f} {g|h|i|j|k|l} {m|n|o|p}"],
      sample: { count: 5, seed },
      dryRun: true,
    });
  const one = await sample(7);
  assert.equal(one.body.rows.length, 5);
  assert.deepEqual(
    (await sample(7)).body.rows.map((r: { prompt: string }) => r.prompt),
    one.body.rows.map((r: { prompt: string }) => r.prompt),
  );

  // Saved for real: the matrix shows as a compare grid on the batch page.
  const created = await postBatch(t, cookie, {
    model: MODEL,
    prompts: ["a fox", "an owl"],
    matrix: { model: [MODEL, PRO] },
  });
  assert.equal(created.status, 201);
  const page = parse(
    await (await t.request(`/batches/${created.body.id}`, {
      headers: { cookie },
    })).text(),
  );
  const heads = [...page.querySelectorAll("table.compare thead th")].map((
    th,
  ) => text(th));
  assert.deepEqual(heads, ["Prompt", "Nano Banana 2.1", "Nano Banana Pro"]);
  assert.equal(page.querySelectorAll("table.compare tbody tr").length, 2);
  assert.equal(page.querySelectorAll("table.compare .tile").length, 4);
});

Deno.test("[authoring] each image: one row per reference, named after it, each sent inline once", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const refs = await uploadReferences(t, cookie, [
    ["shoe.png", await png([10, 10, 10])],
    ["bag.png", await png([20, 20, 20])],
    ["hat.png", await png([30, 30, 30])],
  ]);
  const created = await postBatch(t, cookie, {
    model: MODEL,
    prompts: ["put it on a white background"],
    references: refs.map((r) => r.id),
    eachReference: true,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const { batch: record } = await runToEnd(t, { id: created.body.id, cookie });
  assert.equal(record.counts.succeeded, 3);
  const items = record.items as unknown as Record<string, unknown>[];
  assert.deepEqual(items.map((i) => i.name), ["shoe", "bag", "hat"]);
  assert.equal(t.fake.files().uploaded, 0, "each image is used once: inline");
  const sent = generateRequests(t.fake).map((r) => r.inputImages?.[0]?.sha256);
  assert.deepEqual(new Set(sent), new Set(refs.map((r) => r.sha256)));
});

Deno.test("[authoring] Re-run keeps every row's settings; More like this makes N more of one item", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const created = await postBatch(t, cookie, {
    model: MODEL,
    rows: [
      { prompt: "a fox", model: PRO, aspectRatio: "4:3" },
      { prompt: "an owl", imagesPerPrompt: 2, name: "owl" },
    ],
  });
  const source = { id: created.body.id, cookie };
  const { batch: ran } = await runToEnd(t, source);
  const rerun = await t.request(`/batches/${source.id}/rerun`, {
    method: "POST",
    headers: { cookie },
  });
  assert.equal(rerun.status, 303);
  const copyId = rerun.headers.get("location")!.split("/").at(-1)!;
  assert.notEqual(copyId, source.id);
  const copy = await (await t.request(`/api/batches/${copyId}`, {
    headers: { cookie },
  })).json();
  const shape = (items: Record<string, unknown>[]) =>
    items.map((i) => [i.prompt, i.model, i.aspectRatio, i.name, i.row]);
  assert.deepEqual(
    shape(copy.items),
    shape(ran.items as unknown as Record<string, unknown>[]),
  );
  assert.equal(copy.status, "draft", "the copy waits for Start");

  const fox = (ran.items as unknown as Record<string, unknown>[]).find((i) =>
    i.prompt === "a fox"
  )!;
  const more = await t.request(
    `/batches/${source.id}/items/${fox.id}/more`,
    {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: "count=3",
    },
  );
  assert.equal(more.status, 303);
  const moreId = more.headers.get("location")!.split("/").at(-1)!;
  const made = await (await t.request(`/api/batches/${moreId}`, {
    headers: { cookie },
  })).json();
  assert.deepEqual(
    made.items.map((i: Record<string, unknown>) => [
      i.prompt,
      i.model,
      i.aspectRatio,
    ]),
    Array(3).fill(["a fox", PRO, "4:3"]),
  );

  // The same from a script: the JSON API answers the new batch's record.
  const apiRerun = await t.request(`/api/batches/${source.id}/rerun`, {
    method: "POST",
    headers: { cookie },
  });
  assert.equal(apiRerun.status, 201);
  const rerunCopy = await (await t.request(
    `/api/batches/${(await apiRerun.json()).id}`,
    { headers: { cookie } },
  )).json();
  assert.deepEqual(
    shape(rerunCopy.items),
    shape(ran.items as unknown as Record<string, unknown>[]),
  );
  const apiMore = await t.request(
    `/api/batches/${source.id}/items/${fox.id}/more?count=2`,
    { method: "POST", headers: { cookie } },
  );
  assert.equal(apiMore.status, 201);
  assert.equal((await apiMore.json()).counts.items, 2);
  const badCount = await t.request(
    `/api/batches/${source.id}/items/${fox.id}/more?count=99`,
    { method: "POST", headers: { cookie } },
  );
  assert.equal(badCount.status, 422);
});
