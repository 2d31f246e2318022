/**
 * The server's quota limiters (issue #13): one per workspace + model,
 * shared by every running batch of that workspace (Google's limits are per
 * project; a workspace holds one key). Generators ask for a start token
 * (`token-request`), the limiter grants them in order at the learned rate,
 * and each run's 429s and successes teach it. It keeps rates and times
 * only, keyed by workspace id and model: nothing derived from the key.
 */
import {
  createRateLimiter,
  type QuotaHint,
  type RateLimiter,
} from "../core/rate_limiter.ts";

/** One run's handle on its workspace's limiter. */
export interface RunPacer {
  /** Queues a request for a start token; `grant` is called when it may go. */
  request(grant: () => void): void;
  rateLimited(hint: QuotaHint): void;
  succeeded(): void;
  /** Drops the run's queued requests (the run ended). */
  release(): void;
}

interface Shared {
  limiter: RateLimiter;
  queue: { run: object; grant: () => void }[];
  timer?: ReturnType<typeof setTimeout>;
  runs: number;
}

/** The per-instance registry of shared limiters. */
export interface QuotaPacers {
  forRun(workspaceId: string, model: string): RunPacer;
  /** The learned rate (requests/s) of a workspace + model, for tests. */
  rateOf(workspaceId: string, model: string): number | undefined;
}

export function createQuotaPacers(
  now: () => number = () => performance.now(),
): QuotaPacers {
  const shared = new Map<string, Shared>();
  const keyOf = (workspaceId: string, model: string) =>
    `${workspaceId}\u0000${model}`;

  function pump(entry: Shared) {
    if (entry.timer !== undefined) return;
    while (entry.queue.length > 0) {
      const wait = entry.limiter.take(now(), entry.runs);
      if (wait > 0) {
        entry.timer = setTimeout(() => {
          entry.timer = undefined;
          pump(entry);
        }, Number.isFinite(wait) ? wait : 1_000);
        return;
      }
      entry.queue.shift()!.grant();
    }
  }

  return {
    forRun(workspaceId, model) {
      const key = keyOf(workspaceId, model);
      let entry = shared.get(key);
      if (!entry) {
        entry = { limiter: createRateLimiter(), queue: [], runs: 0 };
        shared.set(key, entry);
      }
      const mine = entry;
      mine.runs++;
      const run = {};
      let released = false;
      return {
        request(grant) {
          if (released) return;
          mine.queue.push({ run, grant });
          pump(mine);
        },
        rateLimited(hint) {
          mine.limiter.onRateLimited(hint, now());
        },
        succeeded() {
          mine.limiter.onSuccess(now());
        },
        release() {
          if (released) return;
          released = true;
          mine.queue = mine.queue.filter((q) => q.run !== run);
          mine.runs--;
          if (mine.queue.length === 0 && mine.timer !== undefined) {
            clearTimeout(mine.timer);
            mine.timer = undefined;
          }
          // The learned rate stays while the server runs: the next batch
          // of this workspace starts at it instead of finding it again.
        },
      };
    },
    rateOf(workspaceId, model) {
      return shared.get(keyOf(workspaceId, model))?.limiter.ratePerSecond;
    },
  };
}
