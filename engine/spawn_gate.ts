/**
 * Starts of generators, a few at a time (issue 13 part 4). A run's start is
 * the server's heaviest moment: its setup statements, a process spawn (a
 * fork of the whole server) and the new child's own start-up, which competes
 * for the same cores. Started all at once, 200 runs queued seconds of that
 * work in front of every page request. Through the gate at most `max` runs
 * are starting at a time (from setup until their generator's first event or
 * exit), and each admission waits for a macrotask, so the pages' requests
 * are served between two starts. Runs keep their order (first come, first
 * started); a run whose signal aborts while it waits leaves the queue.
 */

/**
 * Runs starting at once by default: half the cores (at least one), so the
 * other half serves pages. Measured on 2 cores, 200 runs of 4 images started
 * together (bench/history_load.ts): 1 at a time kept GET /history's p99 near
 * 50 ms, 2 at a time let it reach ~130 ms, 4 ~300 ms, for the same wall time
 * within 15 %.
 */
export function defaultStarting(cores = navigator.hardwareConcurrency): number {
  return Math.max(1, Math.floor((cores || 1) / 2));
}

/** Gives back a start slot; calling it again does nothing. */
export type ReleaseStart = () => void;

/**
 * A slot is given back after this long even if its generator is still
 * silent: a child that hangs at start-up (or waits for something a later
 * run does) must not stop every other run from starting.
 */
export const MAX_HOLD_MS = 2_000;

export class SpawnGate {
  readonly max: number;
  readonly maxHoldMs: number;
  #starting = 0;
  #waiting: Array<() => void> = [];

  constructor(
    max: number = defaultStarting(),
    { maxHoldMs = MAX_HOLD_MS }: { maxHoldMs?: number } = {},
  ) {
    if (!(max >= 1)) throw new RangeError("a start gate admits at least 1");
    this.max = max;
    this.maxHoldMs = maxHoldMs;
  }

  /** Runs starting now (holding a slot). */
  get starting(): number {
    return this.#starting;
  }

  /** Runs waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Waits for a slot. Resolves with its release; if `signal` aborts first,
   * resolves with a release that does nothing (the run then stops as an
   * aborted run does), without taking a slot.
   */
  enter(signal?: AbortSignal): Promise<ReleaseStart> {
    return new Promise((resolve) => {
      let admitted = false;
      const admit = () => {
        admitted = true;
        signal?.removeEventListener("abort", leave);
        this.#starting++;
        // A macrotask between admissions: I/O (a page request) goes first.
        setTimeout(() => resolve(this.#releaser()), 0);
      };
      const leave = () => {
        if (admitted) return;
        const at = this.#waiting.indexOf(admit);
        if (at >= 0) this.#waiting.splice(at, 1);
        resolve(() => {});
      };
      if (signal?.aborted) return resolve(() => {});
      signal?.addEventListener("abort", leave, { once: true });
      if (this.#starting < this.max && this.#waiting.length === 0) admit();
      else this.#waiting.push(admit);
    });
  }

  #releaser(): ReleaseStart {
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(timer);
      this.#starting--;
      if (this.#starting < this.max) this.#waiting.shift()?.();
    };
    const timer = setTimeout(release, this.maxHoldMs);
    // Never keeps the process alive on its own.
    Deno.unrefTimer(timer);
    return release;
  }
}
