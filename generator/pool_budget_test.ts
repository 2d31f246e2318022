/**
 * The pool's budget cap (issue #5) with an injected request function. Every
 * expected figure is worked out by hand from core/prices.json:
 *
 * gemini-3-pro-image, 1K: 1120 image tokens × $120/1M = $0.1344 per image,
 * plus input tokens × $2/1M. A prompt of 2 characters ("p0") is
 * ceil(2/4) = 1 input token = $0.000002, so the per-image estimate is
 * $0.134402; an answer reporting 1 prompt token and 1120 image tokens
 * costs exactly the same, $0.134402.
 */
import assert from "node:assert/strict";
import type { Outcome } from "../gemini/generate.ts";
import { fail, fakeRequest, job, OK, run } from "./pool_test_helpers.ts";

const PRO = "gemini-3-pro-image";
/** $0.134402: see the header. */
const PER_IMAGE = 0.134402;
/** 2.5 images: 2.5 × $0.134402 = $0.336005. */
const CAP = 0.336005;

/** An image answer with Pro 1K usage for a 2-character prompt. */
const PAID: Outcome = {
  ...OK,
  usage: {
    promptTokens: 1,
    outputTokens: 1120,
    imageTokens: 1120,
    thoughtTokens: 0,
  },
} as Outcome;

const prompts = (n: number) => Array.from({ length: n }, (_, i) => `p${i}`);

Deno.test("budget: concurrency 1, cap of 2.5 images → exactly 2 images, then batch-stopped 'budget'", async () => {
  const fake = fakeRequest(() => ({ outcome: PAID }));
  const { result, events, of } = await run(
    job(prompts(5), { model: PRO, concurrency: 1, budgetUsd: CAP }),
    { request: fake.request },
  );
  // 1st: 0 + 0.134402 ≤ 0.336005 → start; 2nd: 0.134402 + 0.134402 =
  // 0.268804 ≤ 0.336005 → start; 3rd: 0.268804 + 0.134402 = 0.403206 > cap.
  assert.equal(fake.calls.length, 2);
  assert.equal(of("image-saved").length, 2);
  assert.equal(of("item-started").length, 2);
  assert.deepEqual(of("batch-stopped"), [{
    type: "batch-stopped",
    kind: "budget",
    // $0.336005 → "$0.336"; spent $0.268804 → "$0.269".
    message:
      "Stopped at your budget cap of $0.336: about $0.269 of estimated Google usage so far. Raise the cap and Resume to continue.",
  }]);
  assert.equal(result.stopped?.kind, "budget");
  assert.equal(result.succeeded, 2);
  // The stop comes after the last usage and image events, then `done`.
  const types = events.map((e) => e.type);
  assert.equal(types.indexOf("batch-stopped"), types.length - 2);
  assert.deepEqual(of("done"), [{ type: "done", succeeded: 2, failed: 0 }]);
});

Deno.test("budget: what earlier runs spent counts toward the cap", async () => {
  const fake = fakeRequest(() => ({ outcome: PAID }));
  const { of } = await run(
    job(prompts(5), {
      model: PRO,
      concurrency: 1,
      budgetUsd: CAP,
      spentUsd: 0.2,
    }),
    { request: fake.request },
  );
  // 0.2 + 0.134402 = 0.334402 ≤ 0.336005 → one image; then
  // 0.334402 + 0.134402 = 0.468804 > cap.
  assert.equal(fake.calls.length, 1);
  assert.match(of("batch-stopped")[0]!.message, /about \$0\.334 of estimated/);
});

Deno.test("budget: a cap already reached starts nothing", async () => {
  const fake = fakeRequest(() => ({ outcome: PAID }));
  const { of, result } = await run(
    job(prompts(3), { model: PRO, budgetUsd: 0 }),
    { request: fake.request },
  );
  assert.equal(fake.calls.length, 0);
  assert.equal(result.stopped?.kind, "budget");
  assert.equal(
    of("batch-stopped")[0]!.message,
    "Stopped at your budget cap of $0.00: about $0.00 of estimated Google usage so far. Raise the cap and Resume to continue.",
  );
  assert.deepEqual(of("done"), [{ type: "done", succeeded: 0, failed: 0 }]);
});

Deno.test("budget: in-flight estimates are reserved; a cheap blocked answer frees room, and its usage still counts", async () => {
  // p0 is blocked fast and reports only its 1 prompt token ($0.000002).
  const blocked: Outcome = {
    ...fail("blocked"),
    usage: {
      promptTokens: 1,
      outputTokens: 0,
      imageTokens: 0,
      thoughtTokens: 0,
    },
  } as Outcome;
  const fake = fakeRequest((prompt) =>
    prompt === "p0" ? { ms: 1, outcome: blocked } : { ms: 30, outcome: PAID }
  );
  const { of } = await run(
    job(prompts(6), { model: PRO, concurrency: 3, budgetUsd: CAP }),
    { request: fake.request },
  );
  // p0 and p1 start (2 × 0.134402 = 0.268804 reserved); p2 would make
  // 0.403206 > 0.336005 and waits. p0 ends: spent 0.000002, reserved
  // 0.134402 → p2 fits (0.268806). p3 then needs 0.000002 + 2 × 0.134402 +
  // 0.134402 = 0.403208 and after p1 and p2 end spent is 0.268806, so
  // 0.268806 + 0.134402 = 0.403208 > cap: stop with p0 blocked, p1, p2 saved.
  assert.deepEqual(fake.calls.map((c) => c.prompt), ["p0", "p1", "p2"]);
  assert.ok(Math.max(...fake.calls.map((c) => c.inFlight)) <= 2);
  assert.deepEqual(of("image-saved").map((e) => e.itemId), ["i1", "i2"]);
  assert.deepEqual(of("item-failed").map((e) => e.kind), ["blocked"]);
  assert.match(
    of("batch-stopped")[0]!.message,
    // 0.268806 → "$0.269"
    /^Stopped at your budget cap of \$0\.336: about \$0\.269 /,
  );
});

Deno.test("budget: a capped job on a model without a price starts nothing", async () => {
  const fake = fakeRequest(() => ({ outcome: PAID }));
  const { of, result } = await run(
    job(prompts(2), { model: "gemini-9-ultra-image", budgetUsd: 10 }),
    { request: fake.request },
  );
  assert.equal(fake.calls.length, 0);
  assert.equal(result.stopped?.kind, "budget");
  assert.match(
    of("batch-stopped")[0]!.message,
    /no price for gemini-9-ultra-image, so your budget cap of \$10\.00 cannot be enforced/,
  );
});

Deno.test("budget: without a cap every item runs, whatever it costs", async () => {
  const fake = fakeRequest(() => ({ outcome: PAID }));
  const { of } = await run(job(prompts(6), { model: PRO }), {
    request: fake.request,
  });
  assert.equal(of("image-saved").length, 6);
  assert.equal(of("batch-stopped").length, 0);
});

Deno.test("budget: an uncapped model without a price still runs", async () => {
  const fake = fakeRequest(() => ({ outcome: PAID }));
  const { of } = await run(job(prompts(2), { model: "gemini-9-ultra-image" }), {
    request: fake.request,
  });
  assert.equal(of("image-saved").length, 2);
});

Deno.test("budget: a retry is checked against the cap like a new request", async () => {
  // p0 fails once with a 503 (no usage); its retry waits its backoff without
  // a slot, so p1 starts meanwhile. Cap of 1.5 images = 1.5 × 0.134402 =
  // $0.201603.
  const fake = fakeRequest((prompt, call) => ({
    outcome: prompt === "p0" && call === 1 ? fail("server") : PAID,
  }));
  const { of } = await run(
    job(prompts(3), { model: PRO, concurrency: 1, budgetUsd: 0.201603 }),
    // Full jitter pinned to its ceiling: the retry is due 50 ms later.
    {
      request: fake.request,
      backoff: { baseMs: 50, capMs: 50 },
      random: () => 1,
    },
  );
  // p0 attempt 1: 0 + 0.134402 ≤ cap; it reports no usage, spent stays 0.
  // p1: 0 + 0.134402 ≤ cap → saved, spent 0.134402. The retry of p0 would
  // make 0.268804 > cap: not started, and neither is p2.
  assert.deepEqual(fake.calls.map((c) => c.prompt), ["p0", "p1"]);
  assert.deepEqual(of("image-saved").map((e) => e.itemId), ["i1"]);
  assert.equal(of("item-failed").length, 0, "p0 is left for Resume");
  assert.match(of("batch-stopped")[0]!.message, /about \$0\.134 of/);
});

Deno.test("budget: PER_IMAGE and CAP match the hand computation", () => {
  // Guards the constants above against typos: 1120 × 120 + 1 × 2 = 134402
  // millionths of a dollar; CAP is 2.5 times that.
  assert.equal(PER_IMAGE, 134402 / 1e6);
  assert.equal(CAP, 336005 / 1e6);
});
