/** Fakes shared by the pool tests: scripted request functions and a runner. */
import {
  eventSchema,
  type GeneratorEvent,
  type Job,
} from "../core/protocol.ts";
import type { Failure, ImageRequest, Outcome } from "../gemini/generate.ts";
import { type PoolOptions, runPool, sleep } from "./pool.ts";
import { imageFileName } from "../core/files.ts";

/** Base64 of a stand-in image. */
export const IMAGE = btoa("fake image bytes");
/** A successful outcome carrying `IMAGE`. */
export const OK: Outcome = {
  ok: true,
  image: { mimeType: "image/png", data: IMAGE },
};

/** A failed outcome of `kind`. */
export function fail(
  kind: Failure["kind"],
  extra: Partial<Failure> = {},
): Outcome {
  return {
    ok: false,
    failure: { kind, message: `${kind} happened`, ...extra },
  };
}

/** A job with one item per prompt. */
export function job(prompts: string[], overrides: Partial<Job> = {}): Job {
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
export function fakeRequest(
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

/** Runs the pool with fast backoff and a fake save; collects events. */
export async function run(
  j: Job,
  options: Partial<PoolOptions> & Pick<PoolOptions, "request">,
) {
  const events: GeneratorEvent[] = [];
  const result = await runPool(j, {
    emit: (e) => events.push(eventSchema.parse(e)),
    backoff: { baseMs: 2, capMs: 20 },
    save: (item) =>
      Promise.resolve({
        // A real name: the event schema accepts only what saveImage writes.
        fileName: imageFileName(item.position, item.imageIndex, "png"),
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
