/** [limits] The sliding-window rate limiter, on a clock the test moves. */
import assert from "node:assert/strict";
import { clientBucket, createRateLimits, RateLimiter } from "./rate_limit.ts";
import { LIMITS } from "../../core/limits.ts";

Deno.test("[limits] a limiter allows `limit` requests per window per client, then says when to retry", () => {
  let now = 1_000_000;
  const limiter = new RateLimiter({
    limit: 3,
    windowMs: 60_000,
    now: () => now,
  });
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(limiter.take("a"), { ok: true });
    now += 10_000;
  }
  // Hits at 0 s, 10 s, 20 s; now 30 s: the first one leaves the window at 60 s.
  assert.deepEqual(limiter.take("a"), { ok: false, retryAfterSeconds: 30 });
  assert.deepEqual(limiter.take("b"), { ok: true }, "other clients unaffected");
  now += 29_000;
  assert.deepEqual(limiter.take("a"), { ok: false, retryAfterSeconds: 1 });
  now += 1_000;
  assert.deepEqual(limiter.take("a"), { ok: true }, "the oldest hit expired");
  assert.equal(limiter.take("a").ok, false, "refused hits are not counted");
  now += 10_000;
  assert.equal(limiter.take("a").ok, true);
});

Deno.test("[limits] a limiter forgets idle clients once it remembers too many", () => {
  let now = 0;
  const limiter = new RateLimiter({
    limit: 1,
    windowMs: 1_000,
    now: () => now,
    maxClients: 10,
  });
  for (let i = 0; i < 10; i++) limiter.take(`c${i}`);
  now += 5_000;
  for (let i = 10; i < 30; i++) limiter.take(`c${i}`);
  // c0…c9 were idle and forgotten; recent ones still count.
  assert.equal(limiter.take("c0").ok, true);
  assert.equal(limiter.take("c29").ok, false);
});

Deno.test("[limits] the app's limits come from core/limits.ts", () => {
  const limits = createRateLimits(() => 0);
  assert.equal(limits.keyChecks.limit, LIMITS.keyChecksPerMinute);
  assert.equal(limits.runStarts.limit, LIMITS.runStartsPerMinute);
  assert.equal(limits.keyChecks.windowMs, 60_000);
});

Deno.test("[limits] client buckets: IPv4 as is, IPv6 by its /64, mapped IPv4 unwrapped", () => {
  assert.equal(clientBucket("203.0.113.9"), "203.0.113.9");
  assert.equal(clientBucket("::ffff:203.0.113.9"), "203.0.113.9");
  assert.equal(clientBucket("2001:db8:1:2::5"), "2001:db8:1:2::/64");
  assert.equal(
    clientBucket("2001:0db8:0001:0002:aaaa:bbbb:cccc:dddd"),
    "2001:db8:1:2::/64",
  );
  assert.equal(clientBucket("[2001:db8::1]"), "2001:db8:0:0::/64");
  assert.equal(clientBucket("::1"), "0:0:0:0::/64");
  assert.equal(clientBucket("fe80::1%eth0"), "fe80:0:0:0::/64");
  assert.equal(clientBucket(undefined), "unknown");
});
