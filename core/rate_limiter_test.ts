import assert from "node:assert/strict";
import { createRateLimiter, quotaWindowMs } from "./rate_limiter.ts";

Deno.test("createRateLimiter() spaces starts a few ms apart until the first 429", () => {
  const limiter = createRateLimiter({ coldSpacingMs: 5 });
  assert.equal(limiter.take(0), 0);
  assert.equal(
    limiter.take(0),
    5,
    "a wave of free slots does not start at once",
  );
  assert.equal(limiter.take(5), 0);
  for (let t = 10; t < 100; t += 5) assert.equal(limiter.take(t), 0);
  assert.equal(limiter.ratePerSecond, undefined);
  const shared = createRateLimiter({ coldSpacingMs: 5 });
  assert.equal(shared.take(0, 3), 0);
  assert.equal(shared.take(1, 3), 14, "three runs sharing: 15 ms apart");
});

Deno.test("createRateLimiter() learns the quota from a 429 and waits out RetryInfo", () => {
  const limiter = createRateLimiter({ safety: 1 });
  limiter.onRateLimited(
    { retryAfterMs: 800, quotaLimit: 4, quotaWindowMs: 1_000 },
    1_000,
  );
  assert.equal(limiter.ratePerSecond, 4);
  assert.equal(limiter.take(1_000), 800, "paused for the retry delay");
  assert.equal(limiter.take(1_800), 0);
  assert.equal(limiter.take(1_800), 250, "then one start per 250 ms");
  assert.equal(limiter.take(2_050), 0);
});

Deno.test("createRateLimiter() remembers each window Google names; the slowest paces", () => {
  const limiter = createRateLimiter({ safety: 1 });
  limiter.onRateLimited({ quotaLimit: 4, quotaWindowMs: 1_000 }, 0);
  assert.equal(limiter.ratePerSecond, 4);
  limiter.onRateLimited({ quotaLimit: 60, quotaWindowMs: 60_000 }, 15_000);
  assert.equal(limiter.ratePerSecond, 1, "60 per minute is slower than 4/s");
  limiter.onRateLimited({ quotaLimit: 4, quotaWindowMs: 1_000 }, 16_000);
  assert.equal(
    limiter.ratePerSecond,
    1,
    "the per-second quota does not raise it",
  );
});

Deno.test("createRateLimiter() without a quota falls below the observed rate", () => {
  const limiter = createRateLimiter({ backoff: 0.5 });
  for (let t = 0; t <= 10_000; t += 100) limiter.onSuccess(t);
  limiter.onRateLimited({ retryAfterMs: 0 }, 10_000);
  const rate = limiter.ratePerSecond!;
  assert.ok(rate > 4 && rate < 6, `about half of 10/s, got ${rate}`);
});

Deno.test("createRateLimiter() probes upward after a quiet stretch", () => {
  const limiter = createRateLimiter({ safety: 1, probeAfterMs: 10_000 });
  limiter.onRateLimited({ quotaLimit: 10, quotaWindowMs: 1_000 }, 0);
  limiter.onSuccess(5_000);
  assert.equal(limiter.ratePerSecond, 10, "no probe while a 429 is recent");
  limiter.onSuccess(10_000);
  assert.ok(limiter.ratePerSecond! > 10, "probed up");
  const probed = limiter.ratePerSecond!;
  limiter.onSuccess(12_000);
  assert.equal(limiter.ratePerSecond, probed, "one step per quiet stretch");
});

Deno.test("quotaWindowMs() reads the window out of Google's quota id", () => {
  assert.equal(
    quotaWindowMs("GenerateRequestsPerMinutePerProjectPerModel"),
    60_000,
  );
  assert.equal(quotaWindowMs("GenerateRequestsPerSecondPerProject"), 1_000);
  assert.equal(quotaWindowMs("GenerateRequestsPer10SecondsPerProject"), 10_000);
  assert.equal(quotaWindowMs("GenerateRequestsPerDayPerProject"), undefined);
});
