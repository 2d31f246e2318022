import assert from "node:assert/strict";
import { createQuotaPacers } from "./quota_pacer.ts";
import { paced } from "./runner.ts";
import type { GeneratorEvent } from "../core/protocol.ts";

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("createQuotaPacers() shares one limiter per workspace and model", async () => {
  let clock = 0;
  const pacers = createQuotaPacers(() => clock);
  const a = pacers.forRun("ws-1", "m");
  const b = pacers.forRun("ws-1", "m");
  const other = pacers.forRun("ws-2", "m");
  a.rateLimited({ retryAfterMs: 1_000, quotaLimit: 4, quotaWindowMs: 1_000 });
  assert.ok(pacers.rateOf("ws-1", "m")! < 4, "learned just under 4/s");
  assert.equal(pacers.rateOf("ws-2", "m"), undefined, "not another's");
  const granted: string[] = [];
  b.request(() => granted.push("b"));
  other.request(() => granted.push("other"));
  await tick();
  assert.deepEqual(granted, ["other"], "run b waits out run a's 429");
  clock = 1_000;
  await tick(1_050);
  assert.deepEqual(granted, ["other", "b"]);
  for (const run of [a, b, other]) run.release();
});

Deno.test("createQuotaPacers() spaces cold starts wider the more runs share the limiter", async () => {
  const pacers = createQuotaPacers();
  const runs = [0, 1, 2].map(() => pacers.forRun("ws", "m"));
  const times: number[] = [];
  await new Promise<void>((done) => {
    for (let i = 0; i < 4; i++) {
      runs[i % 3]!.request(() => {
        times.push(performance.now());
        if (times.length === 4) done();
      });
    }
  });
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  assert.ok(gaps.every((gap) => gap >= 14), `gaps ${gaps.join(", ")} ms`);
  for (const run of runs) run.release();
});

Deno.test("createQuotaPacers() forgets a finished run's queued requests", async () => {
  let clock = 0;
  const pacers = createQuotaPacers(() => clock);
  const run = pacers.forRun("ws", "m");
  run.rateLimited({ retryAfterMs: 50 });
  let granted = 0;
  run.request(() => granted++);
  run.release();
  clock = 100;
  await tick(80);
  assert.equal(granted, 0);
});

Deno.test("paced() answers token requests and hears 429s before the consumer reads on", async () => {
  let push: (event: GeneratorEvent) => void = () => {};
  let end = () => {};
  const events = new ReadableStream<GeneratorEvent>({
    start(controller) {
      push = (event) => controller.enqueue(event);
      end = () => controller.close();
    },
  });
  const heard: string[] = [];
  const pacer = {
    request: (grant: () => void) => grant(),
    rateLimited: () => heard.push("429"),
    succeeded: () => heard.push("saved"),
    release: () => heard.push("released"),
  };
  const stream = paced(events, pacer, () => heard.push("grant"));
  push({ type: "started", items: 1 });
  push({ type: "token-request" });
  push({ type: "rate-limited", retryAfterMs: 100 });
  await tick();
  // Nothing has been read from `stream` yet.
  assert.deepEqual(heard, ["grant", "429"]);
  end();
  const seen: string[] = [];
  for await (const event of stream) seen.push(event.type);
  assert.deepEqual(
    seen,
    ["started", "rate-limited"],
    "token requests stay inside",
  );
  assert.equal(heard.at(-1), "released");
});
