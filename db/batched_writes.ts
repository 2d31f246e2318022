/**
 * One transaction for the writes of many runs (issue 13 part 4). Each run
 * writes a generator event's rows in one `db.batch`; with a hundred runs at
 * once that is hundreds of small commits a second on the server's only
 * thread, each one rewriting the same database pages. Writes asked for
 * while the event loop is busy go out together: the first schedules a
 * flush one macrotask later (the other runs' waiting lines are read in that
 * turn), and every caller gets the results of its own statements. Should the
 * shared batch fail, each caller's statements run again on their own, so
 * one bad write fails only its caller.
 */
import type { BatchItem, BatchResponse } from "drizzle-orm/batch";
import type { Db } from "./client.ts";

type Query = BatchItem<"sqlite">;

interface Pending {
  queries: readonly Query[];
  resolve(results: unknown[]): void;
  reject(error: unknown): void;
}

type Writer = (queries: readonly Query[]) => Promise<unknown[]>;

const writers = new WeakMap<Db, Writer>();

/** Callers whose writes share one transaction, at most. */
export const MAX_GROUP = 16;

/** `db.batch(queries)`, sharing one transaction with other callers' writes. */
export function batchedWrite<
  U extends Query,
  T extends Readonly<[U, ...U[]]>,
>(db: Db, queries: T): Promise<BatchResponse<T>> {
  let writer = writers.get(db);
  if (!writer) {
    writer = createWriter(db);
    writers.set(db, writer);
  }
  return writer(queries) as Promise<BatchResponse<T>>;
}

function createWriter(db: Db): Writer {
  const pending: Pending[] = [];
  let scheduled = false;
  // deno-lint-ignore no-explicit-any
  const run = (queries: readonly Query[]) => db.batch(queries as any);

  async function flush() {
    scheduled = false;
    // The database works on the server's thread: a group is capped so one
    // commit never holds a page request up for long; the rest go next turn.
    const group = pending.splice(0, MAX_GROUP);
    if (pending.length > 0) schedule();
    if (group.length === 1) {
      const [only] = group;
      return await run(only!.queries).then(only!.resolve, only!.reject);
    }
    try {
      const results = await run(group.flatMap((p) => p.queries));
      let at = 0;
      for (const p of group) {
        p.resolve(results.slice(at, at + p.queries.length));
        at += p.queries.length;
      }
    } catch {
      // Nothing of the shared batch was kept (one transaction): each
      // caller's writes again, alone, so the fault stays with its owner.
      for (const p of group) await run(p.queries).then(p.resolve, p.reject);
    }
  }

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    setTimeout(flush, 0);
  }

  return (queries) =>
    new Promise((resolve, reject) => {
      pending.push({ queries, resolve, reject });
      schedule();
    });
}
