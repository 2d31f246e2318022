/**
 * [engine] The generation engine end to end (issue #3): the real app, the
 * real generator child and the fake Gemini on loopback. The pool here
 * (concurrency, slots, bounded in-flight work); retry rules in
 * engine_retry_test.ts, batch stops in engine_stop_test.ts, cancel and a
 * closed tab in engine_cancel_test.ts, resume / retry failed / faults in
 * engine_resume_test.ts. Figures live in bench/, not in timed tests.
 */
import assert from "node:assert/strict";
import { startTestApp } from "./_helpers.ts";
import {
  createBatch,
  generateRequests,
  promptOf,
  runToEnd,
} from "./_engine.ts";

const GENERATE = ":generateContent";

Deno.test("[engine] concurrency 3: exactly 3 requests in flight; 9 items take about 3 rounds", async () => {
  // For each answer: which request it was and how many had arrived by then.
  const answers: { index: number; arrived: number }[] = [];
  await using t = await startTestApp({
    fake: {
      latencyMs: 200,
      onRequest: (r) => {
        if (!r.path.endsWith(GENERATE)) return;
        const all = generateRequests(t.fake);
        answers.push({ index: all.indexOf(r), arrived: all.length });
      },
    },
  });
  const batch = await createBatch(
    t,
    Array.from({ length: 9 }, (_, i) => `a lighthouse, take ${i}`),
    { concurrency: 3 },
  );
  const { batch: record } = await runToEnd(t, batch);
  assert.equal(record.status, "done");
  const stats = t.fake.stats();
  assert.equal(stats.generate, 9, "one request per item");
  assert.equal(stats.maxInFlight, 3, "the pool fills all 3 slots, never more");
  // Rounds by ordering, not wall time: a request is one round after the
  // latest-round request whose answer came before it arrived. Full slots
  // give 3 rounds; a sequential loop would give 9.
  const rounds: number[] = [];
  for (let j = 0; j < 9; j++) {
    const before = answers.filter((a) => a.arrived <= j);
    rounds[j] = 1 + Math.max(0, ...before.map((a) => rounds[a.index] ?? 0));
  }
  const total = Math.max(...rounds);
  assert.ok(
    total >= 3 && total < 6,
    `9 items at concurrency 3: ${total} rounds`,
  );
});

Deno.test("[engine] a freed slot starts the next request at once, not in waves", async () => {
  const answered: string[] = [];
  await using t = await startTestApp({
    fake: {
      latencyMs: 100,
      onRequest: (r) => {
        if (r.path.endsWith(GENERATE)) answered.push(promptOf(r));
      },
    },
  });
  const prompts = [
    "a slow one [slow:1500]",
    ...Array.from({ length: 8 }, (_, i) => `a quick one ${i}`),
  ];
  const batch = await createBatch(t, prompts, { concurrency: 3 });
  const { batch: record } = await runToEnd(t, batch);
  assert.equal(record.status, "done");
  const arrivals = generateRequests(t.fake).map(promptOf);
  assert.ok(arrivals.slice(0, 3).includes(prompts[0]!), "slow one went first");
  // In waves, six quick items would wait for the slow one; with slots, the
  // other two slots work through all eight while it is still running.
  assert.equal(answered.length, 9);
  assert.equal(answered.at(-1), prompts[0], "the slow one answers last");
  assert.equal(t.fake.stats().maxInFlight, 3);
});

Deno.test("[engine] bounded: 60 items never put more than `concurrency` requests in flight", async () => {
  await using t = await startTestApp({
    fake: { latencyMs: 20, imageBytes: 100_000 },
    env: { BATCHGEN_CONCURRENCY: "4" },
  });
  const batch = await createBatch(
    t,
    Array.from({ length: 30 }, (_, i) => `a field of flowers ${i}`),
    { imagesPerPrompt: 2 },
  );
  const { events, batch: record } = await runToEnd(t, batch);
  assert.equal(record.status, "done");
  assert.equal(record.counts.succeeded, 60);
  assert.equal(t.fake.stats().generate, 60);
  assert.equal(t.fake.stats().maxInFlight, 4);
  // The generator holds an image only until it is saved: each one is
  // reported saved once, and nothing is pending at the end.
  assert.equal(events.filter((e) => e.type === "image-saved").length, 60);
});
