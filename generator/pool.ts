/**
 * Runs a job's items with bounded concurrency: a new request starts as soon
 * as a slot frees, retries wait their backoff without holding a slot, a 429
 * lowers the limit and pauses new starts (AIMD, see retry.ts), and an auth or
 * daily-quota failure stops the whole batch at once.
 */
import type { GeneratorEvent, Job, JobItem } from "./protocol.ts";
import {
  decodeImage,
  type Failure,
  type Outcome,
  type RequestImage,
  RequestTimeoutError,
} from "./gemini.ts";
import {
  type AdaptiveOptions,
  type BackoffOptions,
  createAdaptiveLimit,
  DEFAULT_BACKOFF,
  isRetried,
  isRetryableLater,
  rateLimitWaitMs,
  retryDelayMs,
  stopMessage,
  stopsBatch,
} from "./retry.ts";
import { type SavedImage, saveImage } from "./save_image.ts";
import { scrubError } from "../lib/scrub.ts";

/** Waits `ms`, or less when `signal` aborts; never rejects. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Writes one image of an item; the default writes into `job.outputDir`. */
export type SaveFn = (
  item: JobItem,
  image: { bytes: Uint8Array; mimeType: string },
) => Promise<SavedImage>;

/** What the pool needs from outside; everything but two has a default. */
export interface PoolOptions {
  request: RequestImage;
  emit: (event: GeneratorEvent) => void;
  /** Aborting it interrupts the run (SIGTERM): no `done` is emitted. */
  signal?: AbortSignal;
  sleep?: Sleep;
  now?: () => number;
  random?: () => number;
  backoff?: Partial<BackoffOptions>;
  save?: SaveFn;
  /** Scrubbed out of unexpected error texts (the key). */
  secrets?: readonly string[];
  /** Tuning of the adaptive concurrency limit. */
  adaptive?: AdaptiveOptions;
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

const MAX_TIMER_MS = 2 ** 31 - 1;

/** The real `Sleep`, on `setTimeout`; the timer is cleared on abort. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(id);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const id = setTimeout(done, Math.min(MAX_TIMER_MS, Math.max(0, ms)));
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Runs every item of `job`, emitting protocol events; resolves at the end. */
export async function runPool(
  job: Job,
  options: PoolOptions,
): Promise<PoolResult> {
  const { emit, secrets = [] } = options;
  const wait = options.sleep ?? sleep;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  const save: SaveFn = options.save ??
    ((item, image) => saveImage(job.outputDir, item, image));
  const limit = createAdaptiveLimit(job.concurrency, options.adaptive);
  const stop = new AbortController();
  const result: PoolResult = { succeeded: 0, failed: 0, interrupted: false };
  const retries: Attempt[] = [];
  let next = 0;
  let active = 0;
  let seq = 0;
  let pauseUntil = 0;
  let internalError: unknown;
  let wakeUp = () => {};

  const wake = () => wakeUp();
  const onInterrupt = () => {
    result.interrupted = true;
    stop.abort();
    wake();
  };
  options.signal?.addEventListener("abort", onInterrupt, { once: true });
  if (options.signal?.aborted) onInterrupt();

  emit({ type: "started", items: job.items.length });
  while (true) {
    if (stop.signal.aborted) {
      if (active === 0) break;
      await waitFor(Infinity);
      continue;
    }
    if (next >= job.items.length && retries.length === 0 && active === 0) {
      break;
    }
    const t = now();
    let wakeAt = Infinity;
    if (active < limit.current) {
      if (t < pauseUntil) {
        wakeAt = pauseUntil;
      } else {
        const entry = takeReady(t);
        if (entry) {
          launch(entry);
          continue;
        }
        wakeAt = Math.min(...retries.map((r) => r.notBefore));
      }
    }
    await waitFor(wakeAt - t);
  }
  options.signal?.removeEventListener("abort", onInterrupt);
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

  function launch(entry: Attempt) {
    active++;
    const startSeq = ++seq;
    runAttempt(entry, startSeq)
      .catch((error) => {
        // A bug, not a Google failure: stop cleanly and let the caller fail.
        internalError ??= error;
        stop.abort();
      })
      .finally(() => {
        active--;
        wake();
      });
  }

  async function runAttempt(entry: Attempt, startSeq: number) {
    const { item, attempt } = entry;
    emit({ type: "item-started", itemId: item.itemId, attempt });
    const outcome = await requestWithTimeout(item);
    if (!outcome.ok) {
      return onFailure(entry, startSeq, outcome.failure, outcome);
    }
    let bytes: Uint8Array;
    try {
      bytes = decodeImage(outcome.image);
    } catch (error) {
      const message = `Google sent image data that cannot be decoded: ${
        scrubError(error, secrets)
      }`;
      return onFailure(
        entry,
        startSeq,
        { kind: "malformed", message },
        outcome,
      );
    }
    let saved: SavedImage;
    try {
      saved = await save(item, { bytes, mimeType: outcome.image.mimeType });
    } catch (error) {
      const message = `Cannot save the image: ${scrubError(error, secrets)}`;
      return finalFailure(item, { kind: "storage", message }, outcome);
    }
    limit.onSuccess(now());
    if (outcome.usage) {
      emit({ type: "usage", itemId: item.itemId, ...outcome.usage });
    }
    emit({ type: "image-saved", itemId: item.itemId, ...saved });
    result.succeeded++;
  }

  function onFailure(
    entry: Attempt,
    startSeq: number,
    failure: Failure,
    outcome: Outcome,
  ) {
    if (stopsBatch(failure.kind)) return stopBatch(failure);
    // Requests cut off by a stop or an interrupt report nothing.
    if (stop.signal.aborted) return;
    const t = now();
    if (failure.kind === "rate-limited") {
      const pause = rateLimitWaitMs(failure, entry.attempt, backoff);
      limit.onRateLimited({ startSeq, latestSeq: seq }, t, pause);
      pauseUntil = Math.max(pauseUntil, t + pause);
      emit({ type: "rate-limited", retryAfterMs: pause });
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

  async function requestWithTimeout(item: JobItem): Promise<Outcome> {
    const timeout = new AbortController();
    const signal = AbortSignal.any([stop.signal, timeout.signal]);
    const timer = new AbortController();
    wait(job.timeoutMs, timer.signal).then(() => {
      if (!timer.signal.aborted) {
        timeout.abort(new RequestTimeoutError(job.timeoutMs));
      }
    });
    const request = {
      model: job.model,
      prompt: item.prompt,
      aspectRatio: job.aspectRatio,
      ...(job.imageSize === undefined ? {} : { imageSize: job.imageSize }),
    };
    // Racing the abort keeps the pool on time even if a request function
    // does not honour its signal.
    let onAbort = () => {};
    const aborted = new Promise<Outcome>((resolve) => {
      onAbort = () => resolve(abortOutcome(signal));
      signal.addEventListener("abort", onAbort, { once: true });
      if (signal.aborted) onAbort();
    });
    try {
      return await Promise.race([
        options.request(request, signal).catch((error): Outcome => ({
          ok: false,
          failure: signal.aborted ? abortFailure(signal) : {
            kind: "network",
            message: scrubError(error, secrets),
          },
        })),
        aborted,
      ]);
    } finally {
      timer.abort();
      signal.removeEventListener("abort", onAbort);
    }
  }
}

function abortFailure(signal: AbortSignal): Failure {
  return signal.reason instanceof RequestTimeoutError
    ? { kind: "timeout", message: signal.reason.message }
    : { kind: "network", message: "The request was cancelled" };
}

function abortOutcome(signal: AbortSignal): Outcome {
  return { ok: false, failure: abortFailure(signal) };
}
