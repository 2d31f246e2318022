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

Deno.test("createServerGate() drops grants sent before the server heard of the run's own 429", () => {
  let clock = 0;
  let asked = 0;
  const gate = createServerGate(
    () => asked++,
    createRateLimiter(),
    () => clock,
  );
  gate.take(clock);
  gate.grant();
  clock = 5;
  gate.onRateLimited(
    { retryAfterMs: 500, quotaLimit: 4, quotaWindowMs: 1_000 },
    clock,
  );
  assert.equal(
    gate.take(clock),
    Infinity,
    "the banked grant is gone; it asks again",
  );
  assert.equal(asked, 2);
  clock = 20;
  gate.grant(); // sent before the server heard of the 429
  assert.equal(gate.take(clock), Infinity, "dropped too");
  clock = 505;
  gate.grant();
  assert.equal(gate.take(clock), 0, "a grant after the pause starts a request");
});

Deno.test("createServerGate() paces itself once stdin closes", () => {
  const gate = createServerGate(() => {}, createRateLimiter());
  gate.close();
  assert.equal(gate.take(0), 0, "no grant needed");
  gate.onRateLimited({ retryAfterMs: 100 }, 0);
  assert.ok(gate.take(1) > 0, "the local limiter's pause");
});
