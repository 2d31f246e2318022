/** [db] Writes asked for in the same turn share one transaction; a bad one fails alone. */
import assert from "node:assert/strict";
import { sql } from "drizzle-orm";
import { openDb } from "./client.ts";
import { batchedWrite } from "./batched_writes.ts";
import type { Db } from "./client.ts";

/** The database, counting its `batch` calls (transactions). */
function counted(db: Db) {
  const calls = { batches: 0 };
  const proxy = new Proxy(db, {
    get(target, name, receiver) {
      if (name === "batch") {
        return (...args: unknown[]) => {
          calls.batches++;
          // deno-lint-ignore no-explicit-any
          return (target.batch as any)(...args);
        };
      }
      return Reflect.get(target, name, receiver);
    },
  });
  return { db: proxy, calls };
}

Deno.test("[db] batchedWrite() sends the writes of one turn as one transaction, each caller gets its results", async () => {
  const { db: raw, close } = await openDb(":memory:");
  try {
    await raw.run(sql`create table t (n integer)`);
    const { db, calls } = counted(raw);
    const insert = (n: number) =>
      batchedWrite(db, [db.run(sql`insert into t values (${n}) returning n`)])
        .then(([result]) => result.rows.map((row) => Number(row[0])));
    const returned = await Promise.all([insert(1), insert(2), insert(3)]);
    assert.equal(calls.batches, 1, "one transaction for three callers");
    assert.deepEqual(returned, [[1], [2], [3]], "each its own rows");
    await insert(4);
    assert.equal(calls.batches, 2, "a later write is its own transaction");
  } finally {
    close();
  }
});

Deno.test("[db] batchedWrite(): a failing write fails only its caller; the others are kept", async () => {
  const { db: raw, close } = await openDb(":memory:");
  try {
    const { db } = counted(raw);
    const results = await Promise.allSettled([
      batchedWrite(db, [db.run(sql`create table kept (n integer)`)]),
      batchedWrite(db, [db.run(sql`insert into no_such_table values (1)`)]),
    ]);
    assert.equal(results[0]!.status, "fulfilled");
    assert.equal(results[1]!.status, "rejected");
    const rows = await db.run(sql`select count(*) as n from kept`);
    assert.equal(Number(rows.rows[0]![0]), 0, "the good write happened");
  } finally {
    close();
  }
});
