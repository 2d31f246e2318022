import assert from "node:assert/strict";
import {
  createAdaptiveLimit,
  isRetried,
  isRetryableLater,
  rateLimitWaitMs,
  retryDelayMs,
  stopMessage,
  stopsBatch,
} from "./retry.ts";
import { FAILURE_KINDS } from "../core/protocol.ts";

const BACKOFF = { baseMs: 500, capMs: 20_000 };

Deno.test("isRetried() retries only transient kinds; stopsBatch() only auth and quota", () => {
  const retried = FAILURE_KINDS.filter(isRetried);
  assert.deepEqual(retried, [
    "rate-limited",
    "server",
    "timeout",
    "network",
    "malformed",
  ]);
  assert.deepEqual(FAILURE_KINDS.filter(stopsBatch), ["auth", "quota"]);
  assert.equal(isRetryableLater("blocked"), false);
  assert.equal(isRetryableLater("invalid-request"), false);
  assert.equal(isRetryableLater("storage"), true);
});

Deno.test("retryDelayMs() backs off exponentially with full jitter up to the cap", () => {
  const server = { kind: "server" as const, message: "overloaded" };
  const top = (attempt: number) =>
    retryDelayMs(server, attempt, { ...BACKOFF, random: () => 0.999999 });
  assert.equal(top(1), 500);
  assert.equal(top(2), 1000);
  assert.equal(top(3), 2000);
  assert.equal(top(10), 20_000);
  assert.equal(retryDelayMs(server, 3, { ...BACKOFF, random: () => 0 }), 0);
});

Deno.test("retryDelayMs() waits at least Google's retry delay plus up to 20 %", () => {
  const limited = {
    kind: "rate-limited" as const,
    message: "slow down",
    retryAfterMs: 47_000,
  };
  assert.equal(
    retryDelayMs(limited, 1, { ...BACKOFF, random: () => 0 }),
    47_000,
  );
  assert.equal(
    retryDelayMs(limited, 1, { ...BACKOFF, random: () => 0.5 }),
    51_700,
  );
  // Without a hint: a guess that grows, capped.
  const noHint = { kind: "rate-limited" as const, message: "slow down" };
  assert.equal(rateLimitWaitMs(noHint, 1, BACKOFF), 5_000);
  assert.equal(rateLimitWaitMs(noHint, 5, BACKOFF), 20_000);
});

Deno.test("stopMessage() says why and when to resume", () => {
  assert.match(
    stopMessage({ kind: "quota", message: "You exceeded your current quota." }),
    /midnight Pacific time/,
  );
  assert.match(
    stopMessage({ kind: "auth", message: "API key not valid." }),
    /API key not valid\..*Check the key or replace it/,
  );
});

Deno.test("createAdaptiveLimit() lowers once per wave and climbs back by one", () => {
  const limit = createAdaptiveLimit(8, {
    successRun: () => 3,
    cooldownFactor: 0,
    decrease: 0.5,
  });
  assert.equal(limit.current, 8);
  // Requests 1–8 were in flight together; all got 429.
  limit.onRateLimited({ startSeq: 1, latestSeq: 8 }, 0, 100);
  assert.equal(limit.current, 4);
  for (let seq = 2; seq <= 8; seq++) {
    limit.onRateLimited({ startSeq: seq, latestSeq: 8 }, 0, 100);
  }
  assert.equal(
    limit.current,
    4,
    "429s of the same wave lower the limit only once",
  );
  limit.onRateLimited({ startSeq: 9, latestSeq: 9 }, 0, 100);
  assert.equal(limit.current, 2);
  limit.onRateLimited({ startSeq: 10, latestSeq: 10 }, 0, 100);
  limit.onRateLimited({ startSeq: 11, latestSeq: 11 }, 0, 100);
  assert.equal(limit.current, 1, "never below one");
  for (let i = 0; i < 3; i++) limit.onSuccess(0);
  assert.equal(limit.current, 2);
  for (let i = 0; i < 30; i++) limit.onSuccess(0);
  assert.equal(limit.current, 8, "never above the job's limit");
});

Deno.test("createAdaptiveLimit() waits longer and longer to climb after 429s", () => {
  const limit = createAdaptiveLimit(8, { successRun: () => 1, decrease: 0.5 });
  limit.onRateLimited({ startSeq: 1, latestSeq: 8 }, 1_000, 500);
  assert.equal(limit.current, 4);
  for (let i = 0; i < 10; i++) limit.onSuccess(1_999);
  assert.equal(limit.current, 4, "two retry delays have not passed yet");
  limit.onSuccess(2_000);
  assert.equal(limit.current, 5);
  limit.onSuccess(2_999);
  assert.equal(limit.current, 5, "one quiet period per step");
  limit.onSuccess(3_000);
  assert.equal(limit.current, 6);
  // A second overshoot doubles the quiet period.
  limit.onRateLimited({ startSeq: 9, latestSeq: 9 }, 3_000, 500);
  assert.equal(limit.current, 3);
  limit.onSuccess(4_999);
  assert.equal(limit.current, 3);
  limit.onSuccess(5_000);
  assert.equal(limit.current, 4);
});

Deno.test("createAdaptiveLimit() shrinks to three quarters by default", () => {
  const limit = createAdaptiveLimit(8);
  const seen = [limit.current];
  for (let seq = 1; seq <= 6; seq++) {
    limit.onRateLimited({ startSeq: seq, latestSeq: seq }, 0, 1_000);
    seen.push(limit.current);
  }
  assert.deepEqual(seen, [8, 6, 4, 3, 2, 1, 1]);
});
