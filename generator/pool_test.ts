import assert from "node:assert/strict";
import { join } from "node:path";
import { eventSchema, type GeneratorEvent, type Job } from "./protocol.ts";
import type { Failure, ImageRequest, Outcome } from "./gemini.ts";
import { type PoolOptions, runPool, sleep } from "./pool.ts";

const IMAGE = btoa("fake image bytes");
const OK: Outcome = { ok: true, image: { mimeType: "image/png", data: IMAGE } };

function fail(kind: Failure["kind"], extra: Partial<Failure> = {}): Outcome {
  return {
    ok: false,
    failure: { kind, message: `${kind} happened`, ...extra },
  };
}

function job(prompts: string[], overrides: Partial<Job> = {}): Job {
  return {
    batchId: "b1",
    model: "gemini-nano-banana-2.1",
    aspectRatio: "1:1",
    imageSize: "1K",
    concurrency: 4,
    outputDir: "/nonexistent",
    timeoutMs: 10_000,
    maxAttempts: 4,
    items: prompts.map((prompt, position) => ({
      itemId: `i${position}`,
      position,
      imageIndex: 0,
      prompt,
    })),
    ...overrides,
  };
}

/** A fake request function: `script(prompt, call)` gives delay and outcome. */
function fakeRequest(
  script: (prompt: string, call: number) => { ms?: number; outcome: Outcome },
) {
  const calls: { prompt: string; inFlight: number; at: number }[] = [];
  const perPrompt = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  let aborted = 0;
  async function request(
    req: ImageRequest,
    signal: AbortSignal,
  ): Promise<Outcome> {
    const n = (perPrompt.get(req.prompt) ?? 0) + 1;
    perPrompt.set(req.prompt, n);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    calls.push({ prompt: req.prompt, inFlight, at: performance.now() });
    try {
      const { ms = 1, outcome } = script(req.prompt, n);
      await sleep(ms, signal);
      if (signal.aborted) {
        aborted++;
        return fail("network");
      }
      return outcome;
    } finally {
      inFlight--;
    }
  }
  return {
    request,
    calls,
    attempts: (prompt: string) => perPrompt.get(prompt) ?? 0,
    get maxInFlight() {
      return maxInFlight;
    },
    get aborted() {
      return aborted;
    },
  };
}

async function run(
  j: Job,
  options: Partial<PoolOptions> & Pick<PoolOptions, "request">,
) {
  const events: GeneratorEvent[] = [];
  const result = await runPool(j, {
    emit: (e) => events.push(eventSchema.parse(e)),
    backoff: { baseMs: 2, capMs: 20 },
    save: (item) =>
      Promise.resolve({
        fileName: `${item.position + 1}.png`,
        mimeType: "image/png",
        bytes: 16,
        sha256: "0".repeat(64),
      }),
    ...options,
  });
  const of = <T extends GeneratorEvent["type"]>(type: T) =>
    events.filter((e): e is Extract<GeneratorEvent, { type: T }> =>
      e.type === type
    );
  return { result, events, of };
}

Deno.test("runPool() never exceeds the limit and fills a slot as soon as it frees", async () => {
  const fake = fakeRequest((prompt) => ({
    ms: prompt === "slow" ? 80 : 10,
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

Deno.test("runPool() stops the whole batch on an auth failure", async () => {
  const fake = fakeRequest((prompt) => ({
    ms: prompt === "p1" ? 5 : 2_000,
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
    performance.now() - started < 150,
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

Deno.test("runPool() lowers concurrency on 429s and raises it again after successes", async () => {
  // 8 requests in flight together all get 429: the limit drops once (8 → 6).
  let calls = 0;
  const fake = fakeRequest(() => {
    calls++;
    return {
      ms: 10,
      outcome: calls <= 8 ? fail("rate-limited", { retryAfterMs: 30 }) : OK,
    };
  });
  const prompts = Array.from({ length: 40 }, (_, i) => `p${i}`);
  const { result, of } = await run(job(prompts, { concurrency: 8 }), {
    request: fake.request,
    adaptive: { successRun: () => 2, cooldownFactor: 0 },
  });
  assert.equal(result.succeeded, 40);
  assert.equal(of("rate-limited").length, 8);
  const first429 = fake.calls[0]!.at;
  const after = fake.calls.slice(8);
  assert.ok(
    after[0]!.at - first429 >= 29,
    "new starts paused for the retry delay",
  );
  assert.ok(
    Math.max(...after.slice(0, 6).map((c) => c.inFlight)) <= 6,
    "lowered once, to 6",
  );
  assert.ok(Math.max(...after.map((c) => c.inFlight)) > 6, "climbed back");
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

Deno.test("runPool() with no items emits started and done", async () => {
  const { events } = await run(job([]), { request: () => Promise.resolve(OK) });
  assert.deepEqual(events, [
    { type: "started", items: 0 },
    { type: "done", succeeded: 0, failed: 0 },
  ]);
});
