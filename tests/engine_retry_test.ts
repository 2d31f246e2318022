/**
 * [engine] Retry rules end to end: 503 / 500 / timeouts are retried with
 * backoff up to BATCHGEN_MAX_ATTEMPTS, a 429 waits at least Google's
 * RetryInfo delay, and safety blocks and 400s are tried exactly once.
 */
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { prompts } from "../db/schema.ts";
import { startTestApp } from "./_helpers.ts";
import { seededRandom } from "./fake_gemini/scenarios.ts";
import {
  assertReadableReason,
  createBatch,
  generateRequests,
  type ItemRecord,
  promptOf,
  requestsFor,
  runToEnd,
} from "./_engine.ts";

const GENERATE = ":generateContent";

function byPrompt(items: ItemRecord[], marker: string): ItemRecord {
  const item = items.find((i) => i.prompt.includes(marker));
  assert.ok(item, `an item with ${marker}`);
  return item;
}

Deno.test("[engine] 503 / 500 are retried with backoff; a persistent 503 fails after BATCHGEN_MAX_ATTEMPTS", async () => {
  await using t = await startTestApp({ env: { BATCHGEN_MAX_ATTEMPTS: "3" } });
  const batch = await createBatch(t, [
    "a kite [fail-once:503]",
    "a drum [fail-times:2:500]",
    "a ship [status:503]",
    "a plain apple",
  ], { concurrency: 4 });
  const { events, batch: record } = await runToEnd(t, batch);
  assert.equal(record.status, "partial");

  const once = byPrompt(record.items, "[fail-once:503]");
  assert.equal(once.status, "succeeded");
  assert.equal(once.attempts, 2);
  assert.equal(once.errorMessage, null, "a success clears the old reason");
  assert.equal(requestsFor(t.fake, "[fail-once:503]").length, 2);

  const twice = byPrompt(record.items, "[fail-times:2:500]");
  assert.equal(twice.status, "succeeded");
  assert.equal(twice.attempts, 3);
  assert.deepEqual(
    requestsFor(t.fake, "[fail-times:2:500]").map((r) => r.status),
    [500, 500, 200],
  );

  const always = byPrompt(record.items, "[status:503]");
  assert.equal(always.status, "failed");
  assert.equal(always.attempts, 3, "BATCHGEN_MAX_ATTEMPTS attempts");
  assert.equal(always.errorKind, "server");
  assertReadableReason(always.errorMessage);
  assert.match(always.errorMessage!, /overloaded/);
  assert.equal(requestsFor(t.fake, "[status:503]").length, 3);

  assert.equal(byPrompt(record.items, "a plain apple").attempts, 1);
  const failed = events.filter((e) => e.type === "item-failed");
  assert.equal(failed.length, 1, "only the final failure is reported");
  assert.equal(failed[0]!.retryable, true, "a 503 may work on Retry later");
});

Deno.test("[engine] a 429 waits at least Google's RetryInfo delay before the retry", async () => {
  const answeredAt = new Map<string, number[]>();
  await using t = await startTestApp({
    fake: {
      onRequest: (r) => {
        if (!r.path.endsWith(GENERATE)) return;
        const prompt = promptOf(r);
        answeredAt.set(prompt, [
          ...(answeredAt.get(prompt) ?? []),
          performance.now(),
        ]);
      },
    },
  });
  const prompt = "a snail [fail-once:429]";
  const batch = await createBatch(t, [prompt]);
  const { events, batch: record } = await runToEnd(t, batch);
  assert.equal(record.status, "done");
  assert.equal(record.items[0]!.attempts, 2);
  assert.deepEqual(
    requestsFor(t.fake, "[fail-once:429]").map((r) => r.status),
    [
      429,
      200,
    ],
  );
  // The fake's RetryInfo says "1s"; its answers go out right after onRequest.
  const [first = 0, second = 0] = answeredAt.get(prompt) ?? [];
  assert.ok(
    second - first >= 1000,
    `retried ${Math.round(second - first)} ms after the 429`,
  );
  const limited = events.find((e) => e.type === "rate-limited");
  assert.ok(limited, "the run reports the rate limit");
  assert.ok(Number(limited.retryAfterMs) >= 1000);
});

Deno.test("[engine] safety blocks and 400s are tried exactly once", async (t) => {
  await t.step("blocks and an injected 400", async () => {
    await using app = await startTestApp();
    const batch = await createBatch(app, [
      "a cliff [block:IMAGE_SAFETY]",
      "a crowd [block-prompt:PROHIBITED_CONTENT]",
      "a chart [status:400]",
    ]);
    const { batch: record } = await runToEnd(app, batch);
    assert.equal(record.status, "failed");
    for (const marker of ["[block:", "[block-prompt:", "[status:400]"]) {
      assert.equal(requestsFor(app.fake, marker).length, 1, marker);
      assert.equal(byPrompt(record.items, marker).attempts, 1, marker);
    }
    const safety = byPrompt(record.items, "[block:IMAGE_SAFETY]");
    assert.equal(safety.status, "blocked");
    assert.match(safety.errorMessage ?? "", /IMAGE_SAFETY/);
    const bad = byPrompt(record.items, "[status:400]");
    assert.equal(bad.status, "failed");
    assert.equal(bad.errorKind, "invalid-request");
    assertReadableReason(bad.errorMessage);
  });

  await t.step(
    "an aspect ratio Google rejects (400 INVALID_ARGUMENT)",
    async () => {
      await using app = await startTestApp();
      const batch = await createBatch(app, ["one", "two", "three"]);
      // BatchGen's form only offers ratios the model takes; write one it
      // does not, as a stale table would send.
      await app.deps.db.update(prompts).set({ aspectRatio: "7:3" }).where(
        eq(prompts.batchId, batch.id),
      );
      const { batch: record } = await runToEnd(app, batch);
      assert.equal(record.status, "failed");
      assert.equal(app.fake.stats().generate, 3, "one request per item");
      assert.deepEqual(app.fake.stats().byStatus, { 400: 3 });
      for (const item of record.items) {
        assert.equal(item.attempts, 1);
        assert.equal(item.errorKind, "invalid-request");
        assertReadableReason(item.errorMessage);
        assert.match(item.errorMessage!, /aspect_ratio/);
      }
    },
  );
});

/** A fault seed whose first request times out and whose second does not. */
function timeoutThenOkSeed(rate: number): number {
  for (let seed = 1; seed < 10_000; seed++) {
    const random = seededRandom(seed);
    if (random() < rate && random() >= rate) return seed;
  }
  throw new Error("no such seed");
}

Deno.test("[engine] a request that times out is aborted and retried", async () => {
  const rate = 0.5;
  await using t = await startTestApp({
    fake: { faults: { timeout: rate }, seed: timeoutThenOkSeed(rate) },
    env: { BATCHGEN_REQUEST_TIMEOUT_MS: "1000" },
  });
  const batch = await createBatch(t, ["a clock tower"]);
  const { events, batch: record } = await runToEnd(t, batch);
  assert.equal(record.status, "done");
  assert.equal(record.items[0]!.attempts, 2);
  const requests = generateRequests(t.fake);
  assert.equal(requests.length, 2);
  assert.notEqual(requests[0]!.status, 200, "the held request was given up");
  assert.equal(requests[1]!.status, 200);
  assert.deepEqual(
    events.filter((e) => e.type === "item-started").map((e) => e.attempt),
    [1, 2],
  );
});

Deno.test("[engine] a request that times out on every try fails as a timeout", async () => {
  await using t = await startTestApp({
    env: { BATCHGEN_REQUEST_TIMEOUT_MS: "1000", BATCHGEN_MAX_ATTEMPTS: "2" },
  });
  const batch = await createBatch(t, ["a glacier [slow:3000]", "a pebble"]);
  const { batch: record } = await runToEnd(t, batch);
  assert.equal(record.status, "partial");
  const slow = byPrompt(record.items, "[slow:3000]");
  assert.equal(slow.status, "failed");
  assert.equal(slow.errorKind, "timeout");
  assert.equal(slow.attempts, 2);
  assertReadableReason(slow.errorMessage);
  assert.match(slow.errorMessage!, /No answer from Google within 1 s/);
  assert.equal(requestsFor(t.fake, "[slow:3000]").length, 2);
});

Deno.test("[engine] a 429 never fails an item: a tight quota window, one attempt allowed", async () => {
  await using t = await startTestApp({
    env: { BATCHGEN_MAX_ATTEMPTS: "1" },
    fake: { rateLimitPerMinute: 3, rateWindowMs: 300 },
  });
  const batch = await createBatch(
    t,
    Array.from({ length: 10 }, (_, i) => `a pebble ${i}`),
    { concurrency: 8 },
  );
  const { batch: record } = await runToEnd(t, batch);
  assert.equal(record.status, "done");
  assert.ok(record.items.every((item) => item.status === "succeeded"));
  assert.ok((t.fake.stats().byStatus[429] ?? 0) > 0, "the quota did bite");
});

Deno.test("[engine] batches of one workspace share one quota limiter through the server", async () => {
  await using t = await startTestApp({
    env: { BATCHGEN_MAX_ATTEMPTS: "1" },
    fake: { rateLimitPerMinute: 4, rateWindowMs: 400 },
  });
  const batches = await Promise.all([0, 1, 2].map((b) =>
    createBatch(
      t,
      Array.from({ length: 8 }, (_, i) => `a shell ${b}-${i}`),
      { concurrency: 4 },
    )
  ));
  const ends = await Promise.all(batches.map((b) => runToEnd(t, b)));
  for (const { batch } of ends) {
    assert.equal(batch.status, "done");
    assert.ok(batch.items.every((item) => item.status === "succeeded"));
  }
  const stats = t.fake.stats().byStatus;
  const limited = stats[429] ?? 0;
  // Separate limiters would each learn the quota and overshoot it together;
  // one shared limiter costs mostly the cold first wave's 429s (8 of 12).
  assert.ok(
    limited <= 16,
    `429s: ${limited} of ${limited + (stats[200] ?? 0)}`,
  );
});
