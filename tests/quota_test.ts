/**
 * [quota] A workspace cannot fill the disk: each prompt is stored once, batch
 * creation is rate-limited (tests/limits_test.ts), and a workspace has a
 * configurable quota of batches, images and stored bytes, answered with a
 * clear 409 and nothing stored.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createBatchViaApi, form, startTestApp, TEST_KEY } from "./_helpers.ts";
import {
  countRows,
  expectHtml,
  expectJson,
  newWorkspace,
  text,
} from "./_html.ts";

const MODEL = "gemini-nano-banana-2.1";
const JSON_TYPE = { "content-type": "application/json" };

Deno.test("[quota] batches and images per workspace: the next batch is refused with 409 and nothing is stored", async () => {
  await using t = await startTestApp({
    env: {
      BATCHGEN_WORKSPACE_MAX_BATCHES: "2",
      BATCHGEN_WORKSPACE_MAX_ITEMS: "5",
    },
  });
  const cookie = await newWorkspace(t);
  const create = (body: Record<string, unknown>, c = cookie) =>
    t.request("/api/batches", {
      method: "POST",
      headers: { ...JSON_TYPE, cookie: c },
      body: JSON.stringify({ model: MODEL, ...body }),
    });
  const tooMany = await expectJson(
    await create({ prompts: ["a", "b", "c"], imagesPerPrompt: 2 }),
    409,
  );
  assert.equal(tooMany.error.code, "quota_exceeded");
  assert.match(tooMany.error.message, /past its 5 images/);
  for (const prompt of ["one", "two"]) {
    const ok = await create({ prompts: [prompt] });
    await ok.body?.cancel();
    assert.equal(ok.status, 201);
  }
  const third = await expectJson(await create({ prompts: ["three"] }), 409);
  assert.match(third.error.message, /holds 2 batches, its maximum/);
  const page = await t.request("/batches", {
    method: "POST",
    headers: { cookie },
    body: form({ prompts: "three", model: MODEL }),
  });
  const { doc } = await expectHtml(page, 409);
  assert.match(
    text(doc.querySelector(".form-error")),
    /BATCHGEN_WORKSPACE_MAX_BATCHES/,
  );
  assert.equal(await countRows(t, "batches"), 2);
  // Another workspace has its own quota.
  const other = await create({ prompts: ["elsewhere"] }, await newWorkspace(t));
  await other.body?.cancel();
  assert.equal(other.status, 201);
});

Deno.test("[quota] stored bytes: prompts and images count; at the limit new batches and runs are refused", async () => {
  await using t = await startTestApp({
    fake: { imageBytes: 20_000 },
    env: { BATCHGEN_WORKSPACE_MAX_BYTES: "30000" },
  });
  const big = await expectJson(
    await t.request("/api/batches", {
      method: "POST",
      headers: JSON_TYPE,
      body: JSON.stringify({
        model: MODEL,
        prompts: ["x".repeat(3000)].concat(
          Array.from({ length: 10 }, (_, i) => `${i}`.repeat(3000)),
        ),
      }),
    }),
    409,
  );
  assert.match(big.error.message, /BATCHGEN_WORKSPACE_MAX_BYTES/);

  const a = await createBatchViaApi(t, {
    prompts: ["a gannet", "a puffin"],
    model: MODEL,
  });
  const run = await t.request(`/api/batches/${a.id}/run`, {
    method: "POST",
    headers: { cookie: a.cookie, "x-goog-api-key": TEST_KEY },
  });
  await run.text();
  assert.ok(await countRows(t, "images") >= 2, "the images were stored");
  const again = await t.request("/api/batches", {
    method: "POST",
    headers: { ...JSON_TYPE, cookie: a.cookie },
    body: JSON.stringify({ model: MODEL, prompts: ["a tern"] }),
  });
  assert.equal((await expectJson(again, 409)).error.code, "quota_exceeded");
  const retry = await t.request(`/api/batches/${a.id}/run?mode=retry`, {
    method: "POST",
    headers: { cookie: a.cookie, "x-goog-api-key": TEST_KEY },
  });
  const refused = await expectJson(retry, 409);
  assert.match(refused.error.message, /Delete batches in History/);
});

Deno.test("[quota] the database grows by at most twice the bytes of prompts sent, however many images each asks for", async () => {
  await using t = await startTestApp();
  const dbFile = join(t.dataDir, "batchgen.db");
  const size = async () => {
    await t.deps.db.run("PRAGMA wal_checkpoint(TRUNCATE)");
    let bytes = 0;
    for (const suffix of ["", "-wal"]) {
      bytes += await Deno.stat(dbFile + suffix).then((s) => s.size, () => 0);
    }
    return bytes;
  };
  const cookie = await newWorkspace(t);
  await createBatchViaApi(t, { prompts: ["warm-up"], model: MODEL }, {
    cookie,
  });
  const before = await size();
  let sent = 0;
  for (let b = 0; b < 5; b++) {
    // Near the body limit: 1,000 prompts of ~1,900 characters, 5 images each.
    const prompts = Array.from(
      { length: 1000 },
      (_, i) =>
        `batch ${b} prompt ${i} ` + "a quiet harbour at dawn ".repeat(78),
    );
    sent += prompts.reduce((n, p) => n + new TextEncoder().encode(p).length, 0);
    await createBatchViaApi(t, { prompts, model: MODEL, imagesPerPrompt: 5 }, {
      cookie,
    });
  }
  const growth = (await size()) - before;
  const ratio = growth / sent;
  assert.ok(
    ratio <= 2,
    `the database grew ${growth} bytes for ${sent} bytes of prompts (×${
      ratio.toFixed(2)
    })`,
  );
});
