import assert from "node:assert/strict";
import { join } from "node:path";
import type { Failure, Outcome } from "../gemini/generate.ts";
import { sleep } from "./pool.ts";
import { fail, fakeRequest, job, OK, run } from "./pool_test_helpers.ts";

Deno.test("runPool() never exceeds the limit and fills a slot as soon as it frees", async () => {
  const fake = fakeRequest((prompt) => ({
    ms: prompt === "slow" ? 250 : 10,
    outcome: OK,
  }));
  const prompts = ["slow", ...Array.from({ length: 11 }, (_, i) => `p${i}`)];
  const { result, of } = await run(job(prompts, { concurrency: 3 }), {
    request: fake.request,
  });
  assert.equal(fake.maxInFlight, 3);
  assert.deepEqual(result, { succeeded: 12, failed: 0, interrupted: false });
  // Not in waves: the fast items went on while "slow" still held its slot.
  const slowEnd = fake.calls[0]!.at + 250;
  assert.ok(fake.calls.filter((c) => c.at < slowEnd).length >= 8);
  assert.equal(of("image-saved").length, 12);
  assert.deepEqual(of("done"), [{ type: "done", succeeded: 12, failed: 0 }]);
});

Deno.test("runPool() retries transient kinds up to maxAttempts and never blocks or 400s", async (t) => {
  const cases: [Failure["kind"], number, boolean][] = [
    ["server", 3, true],
    ["network", 3, true],
    ["malformed", 3, true],
    ["blocked", 1, false],
    ["no-image", 1, true],
    ["invalid-request", 1, false],
  ];
  for (const [kind, attempts, retryable] of cases) {
    await t.step(kind, async () => {
      const fake = fakeRequest(() => ({ outcome: fail(kind) }));
      const { result, of } = await run(job(["x"], { maxAttempts: 3 }), {
        request: fake.request,
      });
      assert.equal(fake.attempts("x"), attempts);
      assert.deepEqual(
        of("item-started").map((e) => e.attempt),
        [1, 2, 3].slice(0, attempts),
      );
      assert.deepEqual(of("item-failed"), [{
        type: "item-failed",
        itemId: "i0",
        kind,
        message: `${kind} happened`,
        retryable,
      }]);
      assert.equal(result.failed, 1);
    });
  }
});

Deno.test("runPool() times a request out and retries it", async () => {
  const fake = fakeRequest((_, call) => ({
    ms: call === 1 ? 5_000 : 1,
    outcome: OK,
  }));
  const started = performance.now();
  const { result, of } = await run(job(["x"], { timeoutMs: 30 }), {
    request: fake.request,
  });
  assert.ok(performance.now() - started < 1_000);
  assert.equal(fake.attempts("x"), 2);
  assert.equal(result.succeeded, 1);
  assert.deepEqual(of("item-started").map((e) => e.attempt), [1, 2]);
});

Deno.test("runPool() reports a final timeout even if the request ignores its signal", async () => {
  const request = () =>
    new Promise<Outcome>((resolve) => setTimeout(() => resolve(OK), 300));
  const { of } = await run(job(["x"], { timeoutMs: 20, maxAttempts: 2 }), {
    request,
  });
  assert.equal(of("item-failed")[0]?.kind, "timeout");
  assert.match(of("item-failed")[0]!.message, /No answer from Google/);
  await sleep(300); // let the ignored timers end
});

Deno.test("runPool() waits out a 429's retry delay and says so", async () => {
  const fake = fakeRequest((_, call) => ({
    outcome: call === 1 ? fail("rate-limited", { retryAfterMs: 60 }) : OK,
  }));
  const { result, of } = await run(job(["x"]), { request: fake.request });
  assert.equal(result.succeeded, 1);
  assert.deepEqual(of("rate-limited"), [{
    type: "rate-limited",
    retryAfterMs: 60,
  }]);
  assert.ok(
    fake.calls[1]!.at - fake.calls[0]!.at >= 59,
    "waited at least retryAfterMs",
  );
});

Deno.test("runPool() emits usage before the final event of an item", async () => {
  const usage = {
    promptTokens: 5,
    outputTokens: 0,
    imageTokens: 0,
    thoughtTokens: 7,
  };
  const fake = fakeRequest((prompt) => ({
    outcome: prompt === "ok" ? { ...OK, usage } : { ...fail("blocked"), usage },
  }));
  const { events } = await run(job(["ok", "bad"], { concurrency: 1 }), {
    request: fake.request,
  });
  assert.deepEqual(events.map((e) => e.type), [
    "started",
    "item-started",
    "usage",
    "image-saved",
    "item-started",
    "usage",
    "item-failed",
    "done",
  ]);
});

Deno.test("runPool() saves into the output dir with a real file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const png = Uint8Array.from([
      0x89,
      0x50,
      0x4e,
      0x47,
      0x0d,
      0x0a,
      0x1a,
      0x0a,
      0,
      0,
      0,
      13,
      0x49,
      0x48,
      0x44,
      0x52,
      0,
      0,
      4,
      0,
      0,
      0,
      3,
      0,
      8,
      2,
      0,
      0,
      0,
    ]);
    const outcome: Outcome = {
      ok: true,
      image: { mimeType: "image/png", data: png.toBase64() },
    };
    const j = job(["x"], { outputDir: dir });
    j.items[0]!.position = 2;
    const { of } = await run(j, {
      request: () => Promise.resolve(outcome),
      save: undefined,
    });
    const saved = of("image-saved")[0]!;
    assert.equal(saved.fileName, "0003-1.png");
    assert.equal(saved.width, 1024);
    assert.equal(saved.height, 768);
    assert.equal(saved.bytes, png.length);
    assert.deepEqual(await Deno.readFile(join(dir, "0003-1.png")), png);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runPool() reports a storage failure without retrying", async () => {
  const fake = fakeRequest(() => ({ outcome: OK }));
  const { of } = await run(job(["x"]), {
    request: fake.request,
    save: () =>
      Promise.reject(new Deno.errors.PermissionDenied("read-only file system")),
  });
  assert.equal(fake.attempts("x"), 1);
  assert.equal(of("item-failed")[0]?.kind, "storage");
  assert.match(of("item-failed")[0]!.message, /read-only/);
});

Deno.test("runPool() treats undecodable image data as malformed", async () => {
  const fake = fakeRequest(() => ({
    outcome: {
      ok: true,
      image: { mimeType: "image/png", data: "@@not base64@@" },
    },
  }));
  const { of } = await run(job(["x"], { maxAttempts: 2 }), {
    request: fake.request,
  });
  assert.equal(fake.attempts("x"), 2);
  assert.equal(of("item-failed")[0]?.kind, "malformed");
});

Deno.test("runPool() with no items emits started and done", async () => {
  const { events } = await run(job([]), { request: () => Promise.resolve(OK) });
  assert.deepEqual(events, [
    { type: "started", items: 0 },
    { type: "done", succeeded: 0, failed: 0 },
  ]);
});
