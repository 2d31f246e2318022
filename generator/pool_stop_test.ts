import assert from "node:assert/strict";
import { runPool } from "./pool.ts";
import { fail, fakeRequest, job, OK, run } from "./pool_test_helpers.ts";

Deno.test("runPool() stops the whole batch on an auth failure", async () => {
  const fake = fakeRequest((prompt) => ({
    ms: prompt === "p1" ? 50 : 2_000, // after all four started
    outcome: prompt === "p1"
      ? fail("auth", { message: "API key not valid." })
      : OK,
  }));
  const prompts = Array.from({ length: 20 }, (_, i) => `p${i}`);
  const started = performance.now();
  const { result, of } = await run(job(prompts, { concurrency: 4 }), {
    request: fake.request,
  });
  assert.ok(
    performance.now() - started < 1_000,
    "in-flight requests were aborted",
  );
  assert.equal(fake.calls.length, 4, "nothing new started");
  assert.equal(fake.aborted, 3);
  assert.equal(of("batch-stopped").length, 1);
  assert.equal(of("batch-stopped")[0]!.kind, "auth");
  assert.match(
    of("batch-stopped")[0]!.message,
    /API key not valid\. Check the key/,
  );
  assert.equal(of("item-failed").length, 0);
  assert.deepEqual(of("done"), [{ type: "done", succeeded: 0, failed: 0 }]);
  assert.equal(result.stopped?.kind, "auth");
});

Deno.test("runPool() stops on a daily quota after finishing what already succeeded", async () => {
  const fake = fakeRequest((prompt) => ({
    ms: prompt === "p0" ? 1 : 20,
    outcome: prompt === "p2" ? fail("quota") : OK,
  }));
  const prompts = Array.from({ length: 10 }, (_, i) => `p${i}`);
  const { result, of } = await run(job(prompts, { concurrency: 3 }), {
    request: fake.request,
  });
  assert.equal(of("batch-stopped")[0]?.kind, "quota");
  assert.match(of("batch-stopped")[0]!.message, /midnight Pacific/);
  assert.equal(result.succeeded, of("image-saved").length);
  assert.ok(fake.calls.length < 10);
});

Deno.test("runPool(): a 429 never fails an item, and the quota it names paces the starts", async () => {
  // maxAttempts 1: any counted failure would fail an item at once.
  let calls = 0;
  const fake = fakeRequest(() => {
    calls++;
    return {
      ms: 5,
      outcome: calls <= 8
        ? fail("rate-limited", {
          retryAfterMs: 30,
          quotaLimit: 10,
          quotaWindowMs: 1_000,
        })
        : OK,
    };
  });
  const prompts = Array.from({ length: 6 }, (_, i) => `p${i}`);
  const { result, of } = await run(
    job(prompts, { concurrency: 8, maxAttempts: 1 }),
    { request: fake.request },
  );
  assert.equal(result.succeeded, 6);
  assert.equal(result.failed, 0);
  assert.equal(of("item-failed").length, 0);
  assert.equal(of("rate-limited")[0]?.quotaLimit, 10);
  // After the 429s, starts follow ~10/s (0.97 × 10/s: one per ~103 ms).
  const after = fake.calls.slice(6).map((c) => c.at);
  for (let i = 1; i < after.length; i++) {
    assert.ok(after[i]! - after[i - 1]! >= 95, "starts paced to the quota");
  }
});

Deno.test("runPool() stops without `done` when interrupted from outside", async () => {
  const interrupt = new AbortController();
  const fake = fakeRequest(() => ({ ms: 1_000, outcome: OK }));
  setTimeout(() => interrupt.abort(), 20);
  const { result, of } = await run(job(["a", "b", "c"], { concurrency: 2 }), {
    request: fake.request,
    signal: interrupt.signal,
  });
  assert.equal(result.interrupted, true);
  assert.equal(fake.calls.length, 2);
  assert.equal(of("done").length, 0);
  assert.equal(of("item-failed").length, 0);
});

Deno.test("runPool() rejects when emitting fails (a bug, not a Google failure)", async () => {
  const fake = fakeRequest(() => ({ outcome: OK }));
  await assert.rejects(
    runPool(job(["a", "b"]), {
      request: fake.request,
      emit: (e) => {
        if (e.type === "image-saved") throw new Error("bad event");
      },
      save: () =>
        Promise.resolve({
          fileName: "x",
          mimeType: "image/png",
          bytes: 1,
          sha256: "",
        }),
    }),
    /bad event/,
  );
});
