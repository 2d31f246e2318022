/**
 * [engine] Resume and Retry failed never make a second image for an item:
 * interrupt a run (the client goes away), resume it, and count rows, files
 * and Google's successful answers; Retry re-runs only failed items; a run
 * through 30 % faults leaves every item settled, and a second pass finishes.
 */
import assert from "node:assert/strict";
import { listImages } from "../db/batch_queries.ts";
import { startTestApp, TEST_KEY } from "./_helpers.ts";
import {
  assertEachItemOnce,
  assertReadableReason,
  createBatch,
  generateRequests,
  getBatchRecord,
  imageFiles,
  readUntil,
  requestsFor,
  type RunEvent,
  runToEnd,
  startRun,
  waitForRunEnd,
} from "./_engine.ts";

Deno.test("[engine] a closed tab interrupts the run; Resume completes it with exactly one paid image per item", async () => {
  await using t = await startTestApp({ fake: { latencyMs: 50 } });
  const prompts = [
    "a red door",
    "a blue door",
    "a green door [fail-once:429]",
    "a black door",
    "a white door",
    "a grey door",
  ];
  const batch = await createBatch(t, prompts, { concurrency: 1 });
  const response = await startRun(t, batch);
  const reader = response.body!.pipeThrough(new TextDecoderStream())
    .getReader();
  const seen: RunEvent[] = [];
  // The 429 pauses the pool for Google's 1 s: nothing is in flight when the
  // client goes away, so no answer Google bills is thrown away.
  assert.ok(await readUntil(reader, seen, (e) => e.type === "rate-limited"));
  await reader.cancel();
  await waitForRunEnd(t, batch.id);

  const cut = await getBatchRecord(t, batch);
  assert.equal(cut.status, "interrupted");
  assert.match(cut.statusMessage ?? "", /Interrupted.*Resume/);
  assert.deepEqual(cut.items.map((i) => i.status), [
    "succeeded",
    "succeeded",
    "interrupted",
    "interrupted",
    "interrupted",
    "interrupted",
  ]);
  assert.equal(imageFiles(t, batch.id).length, 2);

  const resumed = await runToEnd(t, batch);
  assert.equal(resumed.batch.status, "done");
  await assertEachItemOnce(t, batch, prompts.length);
  const stats = t.fake.stats();
  assert.equal(stats.byStatus[200], prompts.length, "one 200 per item");
  assert.equal(stats.byStatus[429], 1);
  assert.equal(stats.generate, prompts.length + 1);
  for (const prompt of prompts) {
    const ok = requestsFor(t.fake, prompt).filter((r) => r.status === 200);
    assert.equal(ok.length, 1, prompt);
  }
});

Deno.test("[engine] interrupted at any moment, Resume still leaves one image row and one file per item", async () => {
  await using t = await startTestApp({ fake: { latencyMs: 150 } });
  const items = 12;
  const concurrency = 3;
  const batch = await createBatch(
    t,
    Array.from({ length: items }, (_, i) => `a brass key ${i}`),
    { concurrency },
  );
  const response = await startRun(t, batch);
  const reader = response.body!.pipeThrough(new TextDecoderStream())
    .getReader();
  const seen: RunEvent[] = [];
  assert.ok(
    await readUntil(
      reader,
      seen,
      (_, all) => all.filter((e) => e.type === "image-saved").length === 4,
    ),
  );
  await reader.cancel();
  await waitForRunEnd(t, batch.id);
  const cut = await getBatchRecord(t, batch);
  assert.equal(cut.status, "interrupted");
  const done = cut.items.filter((i) => i.status === "succeeded").length;
  assert.ok(done >= 4 && done < items);
  assert.equal((await listImages(t.deps.db, batch.id)).length, done);

  const sentBefore = t.fake.stats().generate;
  const resumed = await runToEnd(t, batch);
  assert.equal(resumed.batch.status, "done");
  assert.equal(t.fake.stats().generate - sentBefore, items - done);
  await assertEachItemOnce(t, batch, items);
  // Requests in flight when the client left were answered (and billed) by
  // Google but thrown away with the killed generator (K6): at most one per
  // slot. Their items are generated again on Resume.
  const ok = t.fake.stats().byStatus[200] ?? 0;
  assert.ok(
    ok >= items && ok <= items + concurrency,
    `${ok} successful answers for ${items} items`,
  );
});

Deno.test("[engine] Resume skips failed items; Retry failed re-runs only them", async () => {
  await using t = await startTestApp({ env: { BATCHGEN_MAX_ATTEMPTS: "1" } });
  const prompts = [
    "an owl",
    "a hawk [fail-once:500]",
    "a wren",
    "a crow [fail-once:500]",
    "a swan [status:500]",
    "a duck",
  ];
  const batch = await createBatch(t, prompts, { concurrency: 2 });
  const first = await runToEnd(t, batch);
  assert.equal(first.batch.status, "partial");
  const failed = first.batch.items.filter((i) => i.status === "failed");
  assert.equal(failed.length, 3);
  for (const item of failed) {
    assert.equal(item.attempts, 1, "BATCHGEN_MAX_ATTEMPTS=1: no retry");
    assert.equal(item.errorKind, "server");
    assertReadableReason(item.errorMessage);
  }
  assert.equal(t.fake.stats().generate, 6);

  const resumed = await runToEnd(t, batch, { mode: "resume" });
  assert.equal(resumed.batch.status, "partial");
  assert.equal(t.fake.stats().generate, 6, "Resume leaves failed items alone");

  const retried = await runToEnd(t, batch, { mode: "retry" });
  assert.equal(t.fake.stats().generate, 9, "Retry sends only the 3 failed");
  const again = generateRequests(t.fake).slice(6).map((r) => r.status).sort();
  assert.deepEqual(again, [200, 200, 500]);
  const byStatus = Object.fromEntries(
    retried.batch.items.map((i) => [i.prompt, i.status]),
  );
  assert.deepEqual(byStatus, {
    "an owl": "succeeded",
    "a hawk [fail-once:500]": "succeeded",
    "a wren": "succeeded",
    "a crow [fail-once:500]": "succeeded",
    "a swan [status:500]": "failed",
    "a duck": "succeeded",
  });
  assert.equal(retried.batch.status, "partial");
  assert.equal((await listImages(t.deps.db, batch.id)).length, 5);
  assert.equal(imageFiles(t, batch.id).length, 5);
});

Deno.test("[engine] 30 % faults: every item settles with a readable reason; a second pass finishes without duplicates", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "batchgen-faults-" });
  const items = 40;
  let batch: { id: string; cookie: string };
  try {
    {
      await using t = await startTestApp({
        dataDir,
        fake: {
          faults: {
            rate429: 0.1,
            rate500: 0.1,
            rate503: 0.05,
            malformed: 0.05,
          },
          seed: 7,
        },
        env: { BATCHGEN_MAX_ATTEMPTS: "2", BATCHGEN_CONCURRENCY: "4" },
      });
      batch = await createBatch(
        t,
        Array.from({ length: items }, (_, i) => `a windmill at dusk ${i}`),
      );
      const { batch: record } = await runToEnd(t, batch);
      const statuses = new Set(record.items.map((i) => i.status));
      assert.ok(
        [...statuses].every((s) => s === "succeeded" || s === "failed"),
        `settled statuses only, got ${[...statuses]}`,
      );
      const failed = record.items.filter((i) => i.status === "failed");
      assert.ok(failed.length > 0, "the seed makes some items fail twice");
      for (const item of failed) {
        assert.ok(
          ["rate-limited", "server", "malformed"].includes(item.errorKind!),
          `kind ${item.errorKind}`,
        );
        assert.equal(item.attempts, 2);
        assertReadableReason(item.errorMessage, [TEST_KEY]);
      }
      assert.equal(record.status, "partial");
      assert.equal(record.counts.succeeded, items - failed.length);
      assert.equal(imageFiles(t, batch.id).length, items - failed.length);
    }
    {
      // Same data dir, a healthy Google: Retry failed finishes the rest.
      await using t = await startTestApp({ dataDir });
      const { batch: record } = await runToEnd(t, batch, { mode: "retry" });
      assert.equal(record.status, "done");
      const failedBefore = generateRequests(t.fake).length;
      assert.ok(failedBefore > 0 && failedBefore < items);
      assert.equal(t.fake.stats().byStatus[200], failedBefore);
      await assertEachItemOnce(t, batch, items);
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
