/**
 * The runs in progress in this server process, by batch id. Holds only an
 * AbortController per batch — never a key (K6) — so Cancel and shutdown can
 * stop a run that another request owns.
 */
export class ActiveRuns {
  #runs = new Map<string, AbortController>();

  /** Registers a run; undefined when the batch already has one. */
  start(batchId: string): AbortController | undefined {
    if (this.#runs.has(batchId)) return undefined;
    const controller = new AbortController();
    this.#runs.set(batchId, controller);
    return controller;
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
    if (this.#runs.get(batchId) === controller) this.#runs.delete(batchId);
  }

  /** Stops every run (server shutdown). */
  abortAll(reason = "shutdown"): void {
    for (const controller of this.#runs.values()) controller.abort(reason);
  }

  get size(): number {
    return this.#runs.size;
  }
}
