/**
 * Runs a job's items with bounded concurrency: a new request starts as soon
 * as a slot frees and the start gate (the quota limiter, core/rate_limiter.ts,
 * or the server's shared one) hands out a token; retries wait their backoff
 * without holding a slot. A 429 teaches the gate the rate and is retried
 * without counting as an attempt: it never fails an item. An auth or
 * daily-quota failure stops the whole batch at once. A job with a budget cap
 * starts no request that could take its estimated spending over the cap; it
 * lets the requests in flight finish, then stops (see budget.ts).
 */
import type { GeneratorEvent, Job, JobItem } from "../core/protocol.ts";
import { itemSettings } from "../core/protocol_check.ts";
import type { ReferencePartsFor } from "./references.ts";
import type { Failure, Outcome, RequestImage } from "../gemini/generate.ts";
import {
  type BackoffOptions,
  DEFAULT_BACKOFF,
  isRetried,
  isRetryableLater,
  rateLimitWaitMs,
  retryDelayMs,
  stopMessage,
  stopsBatch,
} from "./retry.ts";
import { saveImage, saveImageFile } from "../lib/save_image.ts";
import { createBudgetGuard } from "./budget.ts";
import { createRateLimiter, type RateLimiter } from "../core/rate_limiter.ts";
import {
  type SaveFn,
  type Sleep,
  sleep,
  storeImage,
  timedRequest,
} from "./attempt.ts";

export { type SaveFn, type Sleep, sleep } from "./attempt.ts";

/** What the pool needs from outside; everything but two has a default. */
export interface PoolOptions {
  request: RequestImage;
  emit: (event: GeneratorEvent) => void;
  /** Aborting it interrupts the run (SIGTERM): no `done` is emitted. */
  signal?: AbortSignal;
  /**
   * Aborting it drains the run (the server that started it is gone): no
   * request starts any more, the ones in flight finish (each bounded by the
   * request timeout) and save their images, then the pool ends interrupted.
   */
  drain?: AbortSignal;
  sleep?: Sleep;
  now?: () => number;
  random?: () => number;
  backoff?: Partial<BackoffOptions>;
  save?: SaveFn;
  /** Scrubbed out of unexpected error texts (the key). */
  secrets?: readonly string[];
  /** Paces request starts; a local quota limiter by default. */
  gate?: StartGate;
  /** The request parts of an item's reference images (generator/references.ts). */
  references?: ReferencePartsFor;
}

/**
 * Hands out request starts: `take` returns 0 when one may start now (and
 * counts it), else how long to wait before asking again (Infinity: until
 * `setWake`'s callback is called).
 */
export interface StartGate
  extends Pick<RateLimiter, "take" | "onRateLimited" | "onSuccess"> {
  setWake?(wake: () => void): void;
}

/** How a run ended. */
export interface PoolResult {
  succeeded: number;
  failed: number;
  stopped?: { kind: Failure["kind"]; message: string };
  interrupted: boolean;
}

interface Attempt {
  item: JobItem;
  attempt: number;
  notBefore: number;
}

/** Runs every item of `job`, emitting protocol events; resolves at the end. */
export async function runPool(
  job: Job,
  options: PoolOptions,
): Promise<PoolResult> {
  const { secrets = [] } = options;
  const budget = createBudgetGuard(job);
  const itemById = new Map(job.items.map((item) => [item.itemId, item]));
  // Every usage event counts toward the cap the moment it is reported.
  const emit = (event: GeneratorEvent) => {
    const item = event.type === "usage" && itemById.get(event.itemId);
    if (budget && event.type === "usage" && item) budget.spend(event, item);
    options.emit(event);
  };
  const referenceParts = options.references ?? (() =>
    Promise.resolve({
      ok: true as const,
      parts: [],
    }));
  const wait = options.sleep ?? sleep;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  const save: SaveFn = options.save ??
    ((item, image) =>
      "path" in image
        ? saveImageFile(job.outputDir, item, image)
        : saveImage(job.outputDir, item, image));
  const gate: StartGate = options.gate ?? createRateLimiter();
  const stop = new AbortController();
  const result: PoolResult = { succeeded: 0, failed: 0, interrupted: false };
  const retries: Attempt[] = [];
  let next = 0;
  let active = 0;
  let internalError: unknown;
  let wakeUp = () => {};

  const wake = () => wakeUp();
  gate.setWake?.(wake);
  const onInterrupt = () => {
    result.interrupted = true;
    stop.abort();
    wake();
  };
  options.signal?.addEventListener("abort", onInterrupt, { once: true });
  if (options.signal?.aborted) onInterrupt();
  let draining = false;
  const onDrain = () => {
    draining = true;
    result.interrupted = true;
    wake();
  };
  options.drain?.addEventListener("abort", onDrain, { once: true });
  if (options.drain?.aborted) onDrain();

  emit({ type: "started", items: job.items.length });
  while (true) {
    if (stop.signal.aborted || draining) {
      if (active === 0) break;
      await waitFor(Infinity);
      continue;
    }
    if (next >= job.items.length && retries.length === 0 && active === 0) {
      break;
    }
    const t = now();
    let wakeAt = Infinity;
    if (active < job.concurrency) {
      const entry = takeReady(t);
      if (entry && budget && !budget.allows(entry.item)) {
        putBack(entry);
        // With nothing in flight the spending is final: stop. Otherwise
        // wait for the requests in flight to report what they cost.
        if (active === 0) stopForBudget();
        else await waitFor(Infinity);
        continue;
      }
      if (entry) {
        const waitMs = gate.take(t);
        if (waitMs <= 0) {
          launch(entry);
          continue;
        }
        putBack(entry);
        wakeAt = t + waitMs;
      } else {
        wakeAt = Math.min(...retries.map((r) => r.notBefore));
      }
    }
    await waitFor(wakeAt - t);
  }
  options.signal?.removeEventListener("abort", onInterrupt);
  options.drain?.removeEventListener("abort", onDrain);
  if (internalError !== undefined) throw internalError;
  if (!result.interrupted) {
    emit({ type: "done", succeeded: result.succeeded, failed: result.failed });
  }
  return result;

  // Waits for a state change (a request finished) or for `ms` to pass.
  async function waitFor(ms: number) {
    const woken = new Promise<void>((resolve) => (wakeUp = resolve));
    if (!Number.isFinite(ms)) return await woken;
    const timer = new AbortController();
    await Promise.race([woken, wait(ms, timer.signal)]);
    timer.abort();
  }

  // Retries that are due go first, so started items finish before new ones.
  function takeReady(t: number): Attempt | undefined {
    let best = -1;
    retries.forEach((r, i) => {
      if (
        r.notBefore <= t && (best < 0 || r.notBefore < retries[best]!.notBefore)
      ) best = i;
    });
    if (best >= 0) return retries.splice(best, 1)[0];
    const item = job.items[next];
    if (!item) return undefined;
    next++;
    return { item, attempt: 1, notBefore: t };
  }

  // Undoes `takeReady` for an entry the budget did not let start.
  function putBack(entry: Attempt) {
    if (entry.attempt === 1 && job.items[next - 1] === entry.item) next--;
    else retries.push(entry);
  }

  function stopForBudget() {
    if (stop.signal.aborted || !budget) return;
    result.stopped = { kind: "budget", message: budget.stopMessage() };
    emit({ type: "batch-stopped", ...result.stopped });
    stop.abort();
  }

  function launch(entry: Attempt) {
    active++;
    budget?.reserve(entry.item);
    runAttempt(entry)
      .catch((error) => {
        // A bug, not a Google failure: stop cleanly and let the caller fail.
        internalError ??= error;
        stop.abort();
      })
      .finally(() => {
        active--;
        budget?.release(entry.item);
        wake();
      });
  }

  async function runAttempt(entry: Attempt) {
    const { item, attempt } = entry;
    emit({ type: "item-started", itemId: item.itemId, attempt });
    const references = item.references?.length
      ? await referenceParts(item, stop.signal)
      : { ok: true as const, parts: [] };
    if (!references.ok) {
      const failed = { ok: false as const, failure: references.failure };
      return onFailure(entry, references.failure, failed);
    }
    const outcome = await timedRequest(options.request, {
      ...itemSettings(job, item),
      prompt: item.prompt,
      references: references.parts,
    }, { stop: stop.signal, timeoutMs: job.timeoutMs, wait, secrets });
    if (!outcome.ok) {
      return onFailure(entry, outcome.failure, outcome);
    }
    const stored = await storeImage(save, item, outcome.image, secrets);
    if (!stored.ok) return onFailure(entry, stored.failure, outcome);
    gate.onSuccess(now());
    if (outcome.usage) {
      emit({ type: "usage", itemId: item.itemId, ...outcome.usage });
    }
    emit({ type: "image-saved", itemId: item.itemId, ...stored.saved });
    result.succeeded++;
  }

  function onFailure(
    entry: Attempt,
    failure: Failure,
    outcome: Outcome,
  ) {
    if (stopsBatch(failure.kind)) return stopBatch(failure);
    // Requests cut off by a stop or an interrupt report nothing.
    if (stop.signal.aborted) return;
    const t = now();
    if (failure.kind === "rate-limited") {
      // The quota said "not now", not "no": the same attempt goes again
      // once the gate allows, so a 429 never fails an item.
      const pause = rateLimitWaitMs(failure, entry.attempt, backoff);
      const { quotaLimit, quotaWindowMs } = failure;
      const hint = {
        retryAfterMs: pause,
        ...(quotaLimit && quotaWindowMs ? { quotaLimit, quotaWindowMs } : {}),
      };
      gate.onRateLimited(hint, t);
      emit({ type: "rate-limited", ...hint });
      retries.push({ ...entry, notBefore: t + pause });
      return;
    }
    if (isRetried(failure.kind) && entry.attempt < job.maxAttempts) {
      const delay = retryDelayMs(failure, entry.attempt, {
        ...backoff,
        random,
      });
      retries.push({
        item: entry.item,
        attempt: entry.attempt + 1,
        notBefore: t + delay,
      });
      return;
    }
    finalFailure(entry.item, failure, outcome);
  }

  function finalFailure(item: JobItem, failure: Failure, outcome: Outcome) {
    if (outcome.usage) {
      emit({ type: "usage", itemId: item.itemId, ...outcome.usage });
    }
    emit({
      type: "item-failed",
      itemId: item.itemId,
      kind: failure.kind,
      message: failure.message,
      retryable: isRetryableLater(failure.kind),
    });
    result.failed++;
  }

  function stopBatch(failure: Failure) {
    if (stop.signal.aborted) return;
    result.stopped = { kind: failure.kind, message: stopMessage(failure) };
    emit({ type: "batch-stopped", ...result.stopped });
    stop.abort();
  }
}
