/**
 * Per-client rate limits (sliding window): at most `limit` requests in any
 * `windowMs`. Holds client addresses and timestamps only — never a key (K6).
 * The clock is a parameter, so tests move time instead of sleeping.
 */
import { LIMITS } from "../../core/limits.ts";

export type RateDecision =
  | { ok: true }
  | { ok: false; retryAfterSeconds: number };

export interface RateLimiterOptions {
  limit: number;
  windowMs: number;
  /** Milliseconds since some epoch; `Date.now` unless a test moves time. */
  now?: () => number;
  /** Clients remembered before idle ones are forgotten. */
  maxClients?: number;
}

/** Counts requests per client and refuses those over the limit. */
export class RateLimiter {
  readonly limit: number;
  readonly windowMs: number;
  #now: () => number;
  #maxClients: number;
  #hits = new Map<string, number[]>();

  constructor(options: RateLimiterOptions) {
    this.limit = options.limit;
    this.windowMs = options.windowMs;
    this.#now = options.now ?? Date.now;
    this.#maxClients = options.maxClients ?? 10_000;
  }

  /** Records one request of `client`, or says how long it must wait. */
  take(client: string): RateDecision {
    const decision = this.peek(client);
    if (!decision.ok) return decision;
    const now = this.#now();
    const hits = this.#hits.get(client) ?? [];
    hits.push(now);
    const since = now - this.windowMs;
    this.#hits.set(client, hits);
    if (this.#hits.size > this.#maxClients) this.#forgetIdle(since);
    return { ok: true };
  }

  /** Whether `client` is over the limit now, without counting a request. */
  peek(client: string): RateDecision {
    const now = this.#now();
    const since = now - this.windowMs;
    const hits = (this.#hits.get(client) ?? []).filter((t) => t > since);
    this.#hits.set(client, hits);
    if (hits.length < this.limit) return { ok: true };
    const wait = (hits[0] ?? now) + this.windowMs - now;
    return {
      ok: false,
      retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)),
    };
  }

  #forgetIdle(since: number) {
    for (const [client, hits] of this.#hits) {
      if ((hits.at(-1) ?? 0) <= since) this.#hits.delete(client);
    }
  }
}

/** The app's limiters (design: one per kind of key-bearing request). */
export interface RateLimits {
  /** `POST /keys/validate` and `POST /api/keys/validate`. */
  keyChecks: RateLimiter;
  /** `POST /batches/:id/run` and `POST /api/batches/:id/run`. */
  runStarts: RateLimiter;
  /** `POST /batches` and `POST /api/batches`. */
  batchCreates: RateLimiter;
  /** Wrong HTTP Basic credentials (when BATCHGEN_BASIC_AUTH is set). */
  authFailures: RateLimiter;
}

/** The limits of core/limits.ts, on the given clock. */
export function createRateLimits(now?: () => number): RateLimits {
  return {
    keyChecks: new RateLimiter({
      limit: LIMITS.keyChecksPerMinute,
      windowMs: 60_000,
      now,
    }),
    runStarts: new RateLimiter({
      limit: LIMITS.runStartsPerMinute,
      windowMs: 60_000,
      now,
    }),
    batchCreates: new RateLimiter({
      limit: LIMITS.batchCreatesPerMinute,
      windowMs: 60_000,
      now,
    }),
    authFailures: new RateLimiter({
      limit: LIMITS.authFailuresPerMinute,
      windowMs: 60_000,
      now,
    }),
  };
}

/**
 * The bucket a client address counts in: an IPv4 address as is, an IPv6
 * address by its /64 network (one machine usually holds a whole /64).
 */
export function clientBucket(address: string | undefined): string {
  if (!address) return "unknown";
  const a = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "").toLowerCase();
  const mapped = a.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/);
  if (mapped) return mapped[1]!;
  if (!a.includes(":")) return a;
  const [head = "", tail = ""] = a.split("::");
  const left = head ? head.split(":") : [];
  const right = a.includes("::") && tail ? tail.split(":") : [];
  const groups = a.includes("::")
    ? [
      ...left,
      ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"),
      ...right,
    ]
    : left;
  return groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":") +
    "::/64";
}
