/**
 * [engine] A per-day quota, an invalid key or a leaked key stops the whole
 * batch at once: `interrupted` (resumable) with a message that says why and
 * when to resume, no item `failed`; a resume with a good key finishes it.
 */
import assert from "node:assert/strict";
import { startTestApp, TEST_KEY, type TestApp } from "./_helpers.ts";
import {
  assertEachItemOnce,
  createBatch,
  requestsFor,
  runToEnd,
} from "./_engine.ts";

const QUOTA_KEY = "AQ.QuotaSpentForTodayKey0123456789abcdefgh";
const INVALID_KEY = "bad-InvalidKeyForStopTest0123456789abc";
const LEAKED_KEY = "AIzaSyLeakedKeyStopTest0123456789abcd";

async function expectStop(
  t: TestApp,
  key: string,
  why: RegExp,
): Promise<void> {
  const prompts = Array.from({ length: 6 }, (_, i) => `a quiet harbour ${i}`);
  const batch = await createBatch(t, prompts, { concurrency: 2 });
  const { events, batch: record } = await runToEnd(t, batch, { key });
  assert.equal(record.status, "interrupted");
  assert.match(record.statusMessage ?? "", why);
  assert.match(record.statusMessage ?? "", /resume/i);
  assert.ok(!record.statusMessage!.includes(key), "the key is not echoed");
  assert.ok(
    record.items.every((i) => i.status === "interrupted"),
    "every item stays resumable; none is failed",
  );
  assert.equal(events.filter((e) => e.type === "item-failed").length, 0);
  assert.equal(events.filter((e) => e.type === "batch-stopped").length, 1);
  // Stopped at once: at most the requests already in flight were sent.
  const sent = t.fake.stats().generate;
  assert.ok(sent >= 1 && sent <= 2, `${sent} requests before the stop`);

  const resumed = await runToEnd(t, batch, { key: TEST_KEY });
  assert.equal(resumed.batch.status, "done");
  assert.equal(resumed.batch.statusMessage, null, "the stop reason is gone");
  assert.equal(t.fake.stats().byStatus[200], 6, "one image per item");
  await assertEachItemOnce(t, batch, 6);
}

Deno.test("[engine] a spent daily quota stops the batch; it resumes with another key", async () => {
  await using t = await startTestApp({
    fake: { dailyQuotaKeys: [QUOTA_KEY] },
  });
  await expectStop(t, QUOTA_KEY, /quota.*reset at midnight Pacific/is);
});

Deno.test("[engine] the daily-quota message says when it resets", async () => {
  await using t = await startTestApp({
    fake: { dailyQuotaKeys: [QUOTA_KEY] },
  });
  const batch = await createBatch(t, ["a", "b"]);
  const { batch: record } = await runToEnd(t, batch, { key: QUOTA_KEY });
  assert.match(record.statusMessage ?? "", /midnight Pacific/);
  assert.match(record.statusMessage ?? "", /per_day/);
});

Deno.test("[engine] an invalid key stops the batch; it resumes with a good key", async () => {
  await using t = await startTestApp();
  await expectStop(t, INVALID_KEY, /rejected the API key.*not valid/i);
});

Deno.test("[engine] a leaked key stops the batch; it resumes with a good key", async () => {
  await using t = await startTestApp({ fake: { leakedKeys: [LEAKED_KEY] } });
  await expectStop(t, LEAKED_KEY, /rejected the API key.*leaked/i);
});

Deno.test("[engine] a daily quota mid-batch keeps what succeeded and fails nothing", async () => {
  await using t = await startTestApp();
  const prompts = [
    "a pear",
    "a plum",
    "a fig [daily-quota]",
    "a lime",
    "a kiwi",
  ];
  const batch = await createBatch(t, prompts, { concurrency: 1 });
  const { batch: record } = await runToEnd(t, batch);
  assert.equal(record.status, "interrupted");
  assert.match(record.statusMessage ?? "", /midnight Pacific/);
  assert.deepEqual(record.items.map((i) => i.status), [
    "succeeded",
    "succeeded",
    "interrupted",
    "interrupted",
    "interrupted",
  ]);
  assert.equal(t.fake.stats().generate, 3, "nothing is sent after the stop");
  assert.equal(requestsFor(t.fake, "[daily-quota]").length, 1, "no retry");

  // Resume sends only the unfinished items; the quota is still spent.
  const again = await runToEnd(t, batch);
  assert.equal(again.batch.status, "interrupted");
  assert.equal(requestsFor(t.fake, "a pear").length, 1);
  assert.equal(requestsFor(t.fake, "a plum").length, 1);
  assert.equal(requestsFor(t.fake, "[daily-quota]").length, 2);
});
