import { LIMITS } from "../core/limits.ts";

/** Why a run was refused when its workspace already runs its maximum. */
export const RUNNING_CAP_MESSAGE =
  `At most ${LIMITS.runningBatchesPerWorkspace} batches can run at once in a workspace. ` +
  "Wait for one to finish or cancel it, then start this one again.";

/** Why a run was refused when this instance already runs its maximum. */
export function instanceFullMessage(max: number): string {
  return `This BatchGen is already running its maximum of ${max} batches at once ` +
    "(BATCHGEN_MAX_RUNNING). Try again when one of them finishes.";
}

/**
 * Why a run was refused when another instance (sharing the database) holds
 * the batch's lease; `remainingMs`: until that lease lapses unrenewed.
 */
export function runningElsewhereMessage(remainingMs: number): string {
  const seconds = Math.max(1, Math.ceil(remainingMs / 1000));
  return "This batch is already running on another instance of BatchGen. " +
    "Wait for it to finish or cancel it there. If that instance stopped, " +
    `the batch becomes resumable within ${seconds} s.`;
}

/**
 * The runs in progress in this server process, by batch id. Holds only an
 * AbortController per batch — never a key (K6) — so Cancel and shutdown can
 * stop a run that another request owns; and which workspace each run is for,
 * to cap how many one workspace runs at once.
 */
export class ActiveRuns {
  #runs = new Map<string, AbortController>();
  #workspaces = new Map<string, string>();
  readonly maxPerWorkspace: number;
  /** Generators this instance runs at once, whatever their workspaces. */
  readonly maxTotal: number;

  constructor(
    {
      maxPerWorkspace = LIMITS.runningBatchesPerWorkspace as number,
      maxTotal = Infinity,
    } = {},
  ) {
    this.maxPerWorkspace = maxPerWorkspace;
    this.maxTotal = maxTotal;
  }

  /**
   * Whether the instance already runs its maximum (each run is one generator
   * process). Check it right before `start()`, like `atCapacity`.
   */
  full(): boolean {
    return this.#runs.size >= this.maxTotal;
  }

  /** Registers a run; undefined when the batch already has one. */
  start(batchId: string, workspaceId?: string): AbortController | undefined {
    if (this.#runs.has(batchId)) return undefined;
    const controller = new AbortController();
    this.#runs.set(batchId, controller);
    if (workspaceId) this.#workspaces.set(batchId, workspaceId);
    return controller;
  }

  /**
   * Whether the workspace already runs its maximum. Check it right before
   * `start()`, with no `await` between, so two requests cannot both pass.
   */
  atCapacity(workspaceId: string): boolean {
    let running = 0;
    for (const owner of this.#workspaces.values()) {
      if (owner === workspaceId) running++;
    }
    return running >= this.maxPerWorkspace;
  }

  /** Whether the batch has a run in this process. */
  has(batchId: string): boolean {
    return this.#runs.has(batchId);
  }

  /** Stops a batch's run with reason "cancelled"; false when none runs. */
  cancel(batchId: string): boolean {
    const controller = this.#runs.get(batchId);
    if (!controller) return false;
    controller.abort("cancelled");
    return true;
  }

  /** Forgets a finished run. */
  finish(batchId: string, controller: AbortController): void {
    if (this.#runs.get(batchId) === controller) {
      this.#runs.delete(batchId);
      this.#workspaces.delete(batchId);
    }
  }

  /** Stops every run (server shutdown). */
  abortAll(reason = "shutdown"): void {
    for (const controller of this.#runs.values()) controller.abort(reason);
  }

  get size(): number {
    return this.#runs.size;
  }
}
