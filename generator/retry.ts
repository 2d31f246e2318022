/**
 * Retry policy of the generator: which failures are retried, how long to
 * wait, which stop the whole batch, and the adaptive (AIMD) concurrency
 * limit that keeps a steady rate limit from wasting requests on 429s.
 */
import type { FailureKind } from "../core/protocol.ts";
import type { Failure } from "../gemini/errors.ts";

/** Backoff settings; tests pass a small base so they run fast. */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 20_000 };

// Transient trouble on Google's side or the way there: worth another try.
const RETRIED: ReadonlySet<FailureKind> = new Set<FailureKind>([
  "rate-limited",
  "server",
  "timeout",
  "network",
  "malformed",
]);

/** Whether the pool retries a failure of this kind by itself. */
export function isRetried(kind: FailureKind): boolean {
  return RETRIED.has(kind);
}

/** Whether a failure of this kind stops the whole batch at once. */
export function stopsBatch(kind: FailureKind): boolean {
  return kind === "auth" || kind === "quota";
}

/**
 * Whether an item that finally failed with this kind may succeed when the
 * user retries it later (the `retryable` flag of `item-failed`).
 */
export function isRetryableLater(kind: FailureKind): boolean {
  return RETRIED.has(kind) || kind === "storage" || kind === "no-image";
}

/**
 * How long to wait before attempt `attempt + 1` after `failure` on attempt
 * `attempt` (1-based). `random` returns values in [0, 1).
 */
export function retryDelayMs(
  failure: Failure,
  attempt: number,
  options: BackoffOptions & { random: () => number },
): number {
  if (failure.kind === "rate-limited") {
    // At least what Google asked for, plus 0–20 % so the waiting requests
    // do not all come back in the same instant.
    return Math.round(
      rateLimitWaitMs(failure, attempt, options) *
        (1 + 0.2 * options.random()),
    );
  }
  // Exponential backoff with full jitter (AWS architecture blog).
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling * options.random());
}

/** How long Google wants us to pause after a 429 (a guess when unsaid). */
export function rateLimitWaitMs(
  failure: Failure,
  attempt: number,
  options: BackoffOptions,
): number {
  if (failure.retryAfterMs !== undefined) return failure.retryAfterMs;
  return Math.round(
    Math.min(options.capMs, options.baseMs * 10 * 2 ** (attempt - 1)),
  );
}

/** The text of the `batch-stopped` event: why, and what the user can do. */
export function stopMessage(failure: Failure): string {
  if (failure.kind === "quota") {
    return `Google's quota for this key is used up: ${failure.message} ` +
      "Daily quotas reset at midnight Pacific time; resume the batch after " +
      "that, or check the plan and billing of the key's project.";
  }
  return `Google rejected the API key: ${failure.message} ` +
    "Check the key or replace it, then resume the batch.";
}

const MAX_QUIET_MS = 10 * 60_000;

/** An additive-increase / multiplicative-decrease concurrency limit. */
export interface AdaptiveLimit {
  /** How many requests may run at once right now. */
  readonly current: number;
  /**
   * Call when request number `startSeq` got a 429 at time `now`, with Google
   * asking for a pause of `waitMs`; `latestSeq` is the newest started.
   */
  onRateLimited(
    request: { startSeq: number; latestSeq: number },
    now: number,
    waitMs: number,
  ): void;
  /** Call on each successful request. */
  onSuccess(now: number): void;
}

/** Tuning of `createAdaptiveLimit`. */
export interface AdaptiveOptions {
  /** Successes in a row needed to climb by one. */
  successRun?: (limit: number) => number;
  /** After a first 429, stay put for this many times its retry delay. */
  cooldownFactor?: number;
  /** What the limit is multiplied by on a 429 (rounded down, min 1). */
  decrease?: number;
  /** What the quiet period is multiplied by on each further overshoot. */
  quietGrowth?: number;
}

/**
 * Starts at `max`; shrinks to 3/4 (rounded down, min 1: 8 → 6 → 4 → 3 → 2 →
 * 1) on a 429 and climbs back by one after a run of successes. (Halving
 * wasted fewer requests against the fake's rolling-window limits but ran up
 * to 1.4× slower whenever the sustainable concurrency lay between C/2 and C.) Requests already in flight when the limit dropped do not
 * lower it again: they were sent under the old limit. Google's per-minute
 * limits are rolling windows, so right after a pause the freed slots make
 * everything look fine; climbing therefore waits a quiet period (twice the
 * retry delay at first, doubled on every further overshoot) before each
 * step, so a steady limit costs few 429s.
 */
export function createAdaptiveLimit(
  max: number,
  options: AdaptiveOptions = {},
): AdaptiveLimit {
  const successRun = options.successRun ??
    ((limit: number) => Math.max(4, 2 * limit));
  const cooldownFactor = options.cooldownFactor ?? 2;
  const decrease = options.decrease ?? 0.75;
  const quietGrowth = options.quietGrowth ?? 2;
  let current = max;
  let successes = 0;
  let decreasedAtSeq = -1;
  let quietUntil = -Infinity;
  let quietMs = 0;
  return {
    get current() {
      return current;
    },
    onRateLimited({ startSeq, latestSeq }, now, waitMs) {
      successes = 0;
      if (startSeq <= decreasedAtSeq) return;
      current = Math.max(1, Math.floor(current * decrease));
      decreasedAtSeq = latestSeq;
      // Each new overshoot doubles the wait between climbing steps, so a
      // limit that keeps biting is probed less and less often.
      quietMs = Math.min(
        MAX_QUIET_MS,
        Math.max(quietGrowth * quietMs, cooldownFactor * waitMs),
      );
      quietUntil = now + quietMs;
    },
    onSuccess(now) {
      if (current >= max) return;
      successes++;
      if (now >= quietUntil && successes >= successRun(current)) {
        current++;
        successes = 0;
        quietUntil = now + quietMs;
      }
    },
  };
}
