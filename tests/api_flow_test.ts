/** [api] The whole flow through the JSON API with the real generator and the fake Gemini. */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  createBatchViaApi,
  readNdjson,
  startTestApp,
  TEST_KEY,
} from "./_helpers.ts";
import { readPngInfo } from "./fake_gemini.ts";

Deno.test("[api] create, run and read a batch: images, manifest and rows", async () => {
  await using t = await startTestApp();
  const { id, cookie } = await createBatchViaApi(t, {
    prompts: [
      "a red fox",
      "a blue whale [block:IMAGE_SAFETY]",
      "a green frog [text-only]",
    ],
    model: "gemini-3-pro-image",
    aspectRatio: "16:9",
    imageSize: "1K",
    imagesPerPrompt: 2,
  });
  const run = await t.request(`/api/batches/${id}/run`, {
    method: "POST",
    headers: { "x-goog-api-key": TEST_KEY, cookie },
  });
  assert.equal(run.status, 200);
  assert.match(run.headers.get("content-type") ?? "", /application\/x-ndjson/);
  const events = await readNdjson(run);
  const last = events.at(-1) as {
    type: string;
    batch: { status: string; counts: Record<string, number> };
  };
  assert.equal(last.type, "batch");
  assert.equal(last.batch.status, "partial");
  assert.deepEqual(last.batch.counts, {
    items: 6,
    succeeded: 2,
    failed: 4,
    blocked: 2,
  });
  assert.equal(events.filter((e) => e.type === "image-saved").length, 2);

  const record =
    await (await t.request(`/api/batches/${id}`, { headers: { cookie } }))
      .json();
  const byPrompt = (p: string) =>
    record.items.filter((i: { prompt: string }) => i.prompt.startsWith(p));
  for (const item of byPrompt("a red fox")) {
    assert.equal(item.status, "succeeded");
    const image = await t.request(item.image.url, { headers: { cookie } });
    assert.equal(image.status, 200);
    assert.equal(image.headers.get("content-type"), "image/png");
    const info = readPngInfo(new Uint8Array(await image.arrayBuffer()));
    assert.equal(info?.width, 1376);
    assert.equal(info?.height, 768);
  }
  for (const item of byPrompt("a blue whale")) {
    assert.equal(item.status, "blocked");
    assert.match(item.errorMessage, /IMAGE_SAFETY/);
  }
  for (const item of byPrompt("a green frog")) {
    assert.equal(item.status, "failed");
    assert.equal(item.errorKind, "no-image");
  }

  const manifest = JSON.parse(
    await Deno.readTextFile(join(t.config.imagesDir, id, "manifest.json")),
  );
  assert.equal(manifest.items.length, 6);
  assert.equal(
    manifest.items.filter((i: { file: string | null }) => i.file).length,
    2,
  );
  assert.equal(manifest.batch.status, "partial");
});

Deno.test("[api] the generator calls v1beta with the key only in x-goog-api-key", async () => {
  await using t = await startTestApp();
  const { id, cookie } = await createBatchViaApi(t, {
    prompts: ["a cat"],
    model: "gemini-nano-banana-2.1",
  });
  const run = await t.request(`/api/batches/${id}/run`, {
    method: "POST",
    headers: { "x-goog-api-key": TEST_KEY, cookie },
  });
  await run.text();
  const generate = t.fake.requests.filter((r) =>
    r.path.includes(":generateContent")
  );
  assert.equal(generate.length, 1);
  assert.match(
    generate[0]!.path,
    /^\/v1beta\/models\/gemini-nano-banana-2\.1:generateContent$/,
  );
  assert.equal(generate[0]!.headers["x-goog-api-key"], TEST_KEY);
  assert.equal(Object.keys(generate[0]!.query).length, 0);
});
