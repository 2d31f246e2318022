import assert from "node:assert/strict";
import { createRateLimiter } from "../core/rate_limiter.ts";
import { createServerGate } from "./server_gate.ts";

Deno.test("createServerGate() starts one request per server grant, asking once at a time", () => {
  let asked = 0;
  const gate = createServerGate(() => asked++, createRateLimiter());
  assert.equal(gate.take(0), Infinity);
  assert.equal(gate.take(1), Infinity);
  assert.equal(asked, 1, "one token request outstanding");
  gate.grant();
  assert.equal(gate.take(10), 0);
  assert.equal(gate.take(20), Infinity);
  assert.equal(asked, 2);
});

Deno.test("createServerGate() holds a grant sent before the run's own 429 until the pause ends", () => {
  const gate = createServerGate(() => {}, createRateLimiter());
  gate.take(0);
  gate.grant();
  gate.onRateLimited(
    { retryAfterMs: 500, quotaLimit: 4, quotaWindowMs: 1_000 },
    5,
  );
  assert.equal(gate.take(10), 495, "the grant waits");
  assert.equal(gate.take(505), 0, "then it is used");
});

Deno.test("createServerGate() paces itself once stdin closes", () => {
  const gate = createServerGate(() => {}, createRateLimiter());
  gate.close();
  assert.equal(gate.take(0), 0, "no grant needed");
  gate.onRateLimited({ retryAfterMs: 100 }, 0);
  assert.ok(gate.take(1) > 0, "the local limiter's pause");
});
