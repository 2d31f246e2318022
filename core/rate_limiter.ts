/**
 * The request-start limiter (issue #13, part 1): learns the rate Google
 * allows from 429s and successes and paces request starts to it with a
 * token bucket of depth one. Pure: time comes in as arguments.
 *
 * - Before the first 429 it spaces starts a few ms apart (wider the more
 *   runs share it): requests that end together would otherwise start
 *   together, and a whole wave would meet the quota before its first 429
 *   comes back.
 * - A 429 pauses all starts for Google's `RetryInfo` delay. When its
 *   `QuotaFailure` names the quota (so many requests per the window in its
 *   `quotaId`), that window's rate becomes just under it; otherwise the rate
 *   drops below what recent successes show was allowed. Several windows (per
 *   second and per minute) are each remembered; the slowest one paces.
 * - After a long quiet stretch without a 429 it probes upward in small
 *   steps, so a raised quota is found again.
 *
 * It keeps only rates and times: nothing about the key.
 */

/** What a 429 tells the limiter (gemini/errors.ts `Failure`). */
export interface QuotaHint {
  /** Google's RetryInfo delay. */
  retryAfterMs?: number;
  /** The quota's number of requests … */
  quotaLimit?: number;
  /** … per this window (from the quota id: PerSecond, PerMinute, …). */
  quotaWindowMs?: number;
}

export interface RateLimiter {
  /**
   * Takes a start token at `now` and returns 0, or returns how many ms to
   * wait before asking again (nothing is taken then). `sharers`: the runs
   * whose starts this limiter paces; until a rate is known each widens the
   * gap between starts, as the first 429 takes longer to be heard.
   */
  take(now: number, sharers?: number): number;
  onRateLimited(hint: QuotaHint, now: number): void;
  onSuccess(now: number): void;
  /** The learned rate in requests per second; undefined before any 429. */
  readonly ratePerSecond: number | undefined;
  /** When the pause a 429 asked for ends (-Infinity without one). */
  readonly pausedUntil: number;
}

export interface RateLimiterOptions {
  /** Share of a known quota to pace at (network jitter moves starts). */
  safety?: number;
  /** Without a quota hint: share of the recently observed rate to fall to. */
  backoff?: number;
  /** Quiet time (no 429) before each upward probe; at least 5 windows. */
  probeAfterMs?: number;
  /** What a probe multiplies the rate by. */
  probeStep?: number;
  /** The pause after a 429 that names none. */
  defaultPauseMs?: number;
  /** Gap between starts while no rate is known yet. */
  coldSpacingMs?: number;
}

const SUCCESS_MEMORY_MS = 60_000;
const MIN_RATE_PER_MS = 1 / 600_000;

export function createRateLimiter(
  options: RateLimiterOptions = {},
): RateLimiter {
  const safety = options.safety ?? 0.97;
  const backoff = options.backoff ?? 0.8;
  const probeAfterMs = options.probeAfterMs ?? 60_000;
  const probeStep = options.probeStep ?? 1.05;
  const defaultPauseMs = options.defaultPauseMs ?? 5_000;
  const coldSpacingMs = options.coldSpacingMs ?? 5;
  // Per-ms rates: one per quota window Google named, and one found without
  // a name; the slowest paces, times `boost` after quiet probes.
  const known = new Map<number, number>();
  let unnamed: number | undefined;
  let boost = 1;
  let next = -Infinity;
  let last = -Infinity;
  let pauseUntil = -Infinity;
  let lastLimitedAt = -Infinity;
  let lastProbeAt = -Infinity;
  // Times of recent successes: what the quota evidently allowed.
  const successes: number[] = [];

  const rate = (): number | undefined => {
    if (known.size === 0 && unnamed === undefined) return undefined;
    return Math.min(unnamed ?? Infinity, ...known.values()) * boost;
  };
  const longestWindow = () => Math.max(0, ...known.keys());

  const observedPerMs = (now: number): number | undefined => {
    while (successes.length && successes[0]! <= now - SUCCESS_MEMORY_MS) {
      successes.shift();
    }
    if (successes.length < 2) return undefined;
    const span = Math.max(now - successes[0]!, 1_000);
    return successes.length / span;
  };

  return {
    get pausedUntil() {
      return pauseUntil;
    },
    get ratePerSecond() {
      const perMs = rate();
      return perMs === undefined ? undefined : perMs * 1000;
    },
    take(now, sharers = 1) {
      const perMs = rate();
      const at = Math.max(
        pauseUntil,
        perMs === undefined ? last + coldSpacingMs * sharers : next,
      );
      if (now < at) return Math.ceil(at - now);
      last = now;
      if (perMs !== undefined) next = now + 1 / perMs;
      return 0;
    },
    onRateLimited(hint, now) {
      lastLimitedAt = now;
      pauseUntil = Math.max(
        pauseUntil,
        now + (hint.retryAfterMs ?? defaultPauseMs),
      );
      const current = rate();
      boost = 1;
      const { quotaLimit, quotaWindowMs } = hint;
      if (quotaLimit && quotaLimit > 0 && quotaWindowMs && quotaWindowMs > 0) {
        known.set(quotaWindowMs, (safety * quotaLimit) / quotaWindowMs);
        return;
      }
      const observed = observedPerMs(now);
      const base = Math.min(
        current ?? Infinity,
        observed ?? current ?? 1 / 1000,
      );
      unnamed = Math.max(MIN_RATE_PER_MS, base * backoff);
    },
    onSuccess(now) {
      successes.push(now);
      if (rate() === undefined) return;
      const quiet = Math.max(probeAfterMs, 5 * longestWindow());
      if (now - lastLimitedAt >= quiet && now - lastProbeAt >= quiet) {
        boost *= probeStep;
        lastProbeAt = now;
      }
    },
  };
}

/** The window of a quota id: "…PerSecond…", "…PerMinute…", "…Per10Seconds…". */
export function quotaWindowMs(quotaId: string): number | undefined {
  const counted = /Per(\d+)(Second|Minute|Hour)s?/.exec(quotaId);
  const unit = (name: string) =>
    name === "Second" ? 1_000 : name === "Minute" ? 60_000 : 3_600_000;
  if (counted) return Number(counted[1]) * unit(counted[2]!);
  const single = /Per(Second|Minute|Hour)/.exec(quotaId);
  return single ? unit(single[1]!) : undefined;
}
