/** [spawn_gate] At most `max` runs start at once, in order; aborts leave the queue. */
import assert from "node:assert/strict";
import { defaultStarting, SpawnGate } from "./spawn_gate.ts";

Deno.test("[spawn_gate] admits at most max at once, first come first started, each release lets the next in", async () => {
  const gate = new SpawnGate(2);
  const order: number[] = [];
  const releases = new Map<number, () => void>();
  const entered = [0, 1, 2, 3].map((i) =>
    gate.enter().then((release) => {
      order.push(i);
      releases.set(i, release);
    })
  );
  await Promise.all(entered.slice(0, 2));
  assert.deepEqual(order, [0, 1]);
  assert.equal(gate.starting, 2);
  assert.equal(gate.waiting, 2);

  releases.get(1)!();
  releases.get(1)!(); // a second call gives back nothing more
  await entered[2];
  assert.deepEqual(order, [0, 1, 2]);
  assert.equal(gate.starting, 2);
  assert.equal(gate.waiting, 1);

  releases.get(0)!();
  await entered[3];
  assert.deepEqual(order, [0, 1, 2, 3]);
  releases.get(2)!();
  releases.get(3)!();
  assert.equal(gate.starting, 0);
});

Deno.test("[spawn_gate] a run aborted while it waits leaves the queue without a slot; one aborted before never queues", async () => {
  const gate = new SpawnGate(1);
  const first = await gate.enter();
  const controller = new AbortController();
  const waiting = gate.enter(controller.signal);
  const behind = gate.enter();
  assert.equal(gate.waiting, 2);
  controller.abort("cancelled");
  const noop = await waiting;
  assert.equal(gate.waiting, 1);
  noop(); // gives back nothing: it held no slot
  assert.equal(gate.starting, 1);

  first();
  const next = await behind;
  assert.equal(gate.starting, 1);
  next();

  const aborted = new AbortController();
  aborted.abort("cancelled");
  (await gate.enter(aborted.signal))();
  assert.equal(gate.starting, 0);
  assert.equal(gate.waiting, 0);
});

Deno.test("[spawn_gate] by default half the cores start runs, at least one", () => {
  assert.equal(defaultStarting(1), 1);
  assert.equal(defaultStarting(2), 1);
  assert.equal(defaultStarting(3), 1);
  assert.equal(defaultStarting(8), 4);
  assert.equal(defaultStarting(0), 1);
  assert.throws(() => new SpawnGate(0), RangeError);
});

Deno.test("[spawn_gate] a slot held by a silent start is given back after maxHoldMs", async () => {
  const gate = new SpawnGate(1, { maxHoldMs: 20 });
  await gate.enter(); // never released by its holder
  // The gate's timer never keeps a process alive: this one does, meanwhile.
  const alive = setTimeout(() => {}, 5_000);
  const next = await gate.enter();
  clearTimeout(alive);
  assert.equal(gate.starting, 1);
  next();
  assert.equal(gate.starting, 0);
});
