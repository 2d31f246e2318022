/**
 * [leases] Several instances on one database: migrations at start are safe
 * when instances start together, a run is owned through its lease (taken
 * once, renewed by a heartbeat, released at the end), and crash recovery
 * takes only batches no live instance holds.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { eq, sql } from "drizzle-orm";
import { type Db, openDb } from "../db/client.ts";
import { batches } from "../db/schema.ts";
import {
  findLease,
  releaseLease,
  renewLease,
  takeLease,
} from "../db/lease_queries.ts";
import { moveItems } from "../db/run_queries.ts";
import { findBatchById } from "../db/batch_queries.ts";
import { ActiveRuns } from "../engine/active_runs.ts";
import { claimRun } from "../engine/start_run.ts";
import {
  cancelElsewhere,
  claimInstance,
  holdRunLease,
  InstanceIdInUseError,
  instancesDir,
  runningElsewhere,
} from "../engine/leases.ts";
import { recoverAfterCrash } from "../engine/recovery.ts";
import { DEFAULTS } from "../core/limits.ts";
import { simplePlan, storeBatch } from "./_helpers.ts";

const WORKSPACE = "f".repeat(64);
const JOURNAL = fileURLToPath(
  new URL("../db/migrations/meta/_journal.json", import.meta.url),
);
const CLIENT = new URL("../db/client.ts", import.meta.url).href;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, done: () => boolean, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function migrationCount(): Promise<number> {
  return JSON.parse(await Deno.readTextFile(JOURNAL)).entries.length;
}

async function appliedMigrations(db: Db): Promise<number> {
  const [row] = await db.all<{ n: number }>(
    sql`SELECT count(*) AS n FROM __drizzle_migrations`,
  );
  return Number(row?.n);
}

/** A temp data dir with a migrated file database. */
async function tempDb() {
  const dataDir = await Deno.makeTempDir({ prefix: "batchgen-leases-" });
  const url = `file:${join(dataDir, "batchgen.db")}`;
  const { db, close } = await openDb(url);
  return {
    db,
    dataDir,
    url,
    imagesDir: join(dataDir, "images"),
    async [Symbol.asyncDispose]() {
      close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}

async function newBatch(db: Db, title = "lease test") {
  return await storeBatch(
    db,
    WORKSPACE,
    simplePlan({
      title,
      prompts: ["a red fox", "a blue whale"],
      model: "gemini-nano-banana-2.1",
      aspectRatio: "1:1",
      imageSize: "1K",
      imagesPerPrompt: 1,
      concurrency: 1,
    }),
  );
}

/** Leaves a batch as a run that never ended leaves it. */
async function markRunning(db: Db, id: string) {
  await moveItems(db, id, ["pending"], "running");
  await db.update(batches).set({ status: "running" }).where(
    eq(batches.id, id),
  );
}

Deno.test("[leases] two instances migrating one new database at once both start, and each migration is applied once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "batchgen-migrate-race-" });
  try {
    // In one process: the loser's transaction fails on "already exists".
    const url = `file:${join(dir, "one.db")}`;
    const opened = await Promise.all([openDb(url), openDb(url), openDb(url)]);
    for (const { db } of opened) {
      assert.equal(await appliedMigrations(db), await migrationCount());
    }
    for (const { close } of opened) close();

    // In two processes started together: SQLITE_BUSY or "already exists".
    const shared = `file:${join(dir, "two.db")}`;
    const code = `const { openDb } = await import(${JSON.stringify(CLIENT)});
      const { close } = await openDb(${JSON.stringify(shared)});
      close();
      console.log("migrated");`;
    const children = [0, 1].map(() =>
      new Deno.Command(Deno.execPath(), {
        args: ["eval", code],
        stdout: "piped",
        stderr: "piped",
      }).output()
    );
    for (const out of await Promise.all(children)) {
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, stderr);
      assert.match(new TextDecoder().decode(out.stdout), /migrated/);
    }
    const { db, close } = await openDb(shared);
    try {
      assert.equal(await appliedMigrations(db), await migrationCount());
      const tables = await db.all<{ name: string }>(
        sql`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'run_leases'`,
      );
      assert.equal(tables.length, 1);
    } finally {
      close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[leases] a lease is taken once: refused while live, taken when lapsed, renewed and released only by its owner", async () => {
  await using t = await tempDb();
  const batch = await newBatch(t.db);
  const a = await takeLease(t.db, batch.id, "A", 400);
  assert.equal(a?.owner, "A");
  assert.ok(a.remainingMs > 300 && a.remainingMs <= 400, `${a.remainingMs}`);
  assert.equal(await takeLease(t.db, batch.id, "B", 400), undefined);
  assert.equal(await renewLease(t.db, batch.id, "B", 400), undefined);
  assert.equal(await releaseLease(t.db, batch.id, "B"), false);
  assert.equal((await findLease(t.db, batch.id))?.owner, "A");
  // A's own stale name is void for A only.
  assert.equal(
    (await takeLease(t.db, batch.id, "A", 400, ["A"]))?.owner,
    "A",
  );

  await sleep(450);
  const b = await takeLease(t.db, batch.id, "B", 400);
  assert.equal(b?.owner, "B", "a lapsed lease is free");
  assert.equal(await renewLease(t.db, batch.id, "A", 400), undefined);
  assert.ok((await renewLease(t.db, batch.id, "B", 60_000))!.remainingMs > 400);
  assert.equal(await releaseLease(t.db, batch.id, "B"), true);
  assert.equal(await findLease(t.db, batch.id), undefined);

  // Many takers at once: exactly one wins.
  const wins = await Promise.all(
    Array.from(
      { length: 8 },
      (_, i) => takeLease(t.db, batch.id, `I${i}`, 5000),
    ),
  );
  assert.equal(wins.filter(Boolean).length, 1);
});

Deno.test("[leases] a second instance refuses to start a run another live instance holds", async () => {
  await using t = await tempDb();
  const batch = await newBatch(t.db);
  const instance = (instanceId: string) => ({
    db: t.db,
    activeRuns: new ActiveRuns(),
    config: {
      quota: {
        batches: DEFAULTS.workspaceMaxBatches,
        items: DEFAULTS.workspaceMaxItems,
        bytes: DEFAULTS.workspaceMaxBytes,
      },
      instanceId,
      leaseMs: 60_000,
    },
  });
  const a = instance("A");
  const b = instance("B");
  const claimed = await claimRun(a, batch, undefined);
  assert.ok(claimed.ok);
  const refused = await claimRun(b, batch, undefined);
  assert.ok(!refused.ok);
  assert.equal(refused.problem.code, "already_running");
  assert.match(refused.problem.message, /already running on another instance/);
  assert.match(refused.problem.message, /resumable within (59|60) s/);
  assert.equal(b.activeRuns.size, 0, "a refused claim leaves no run behind");

  await claimed.value.lease.release();
  a.activeRuns.finish(batch.id, claimed.value.controller);
  const again = await claimRun(b, batch, undefined);
  assert.ok(again.ok, "free once A's run ended");
  await again.value.lease.release();
});

Deno.test("[leases] the heartbeat keeps a run's lease past leaseMs, a lost lease stops the run, a cancel from elsewhere cancels it", async () => {
  await using t = await tempDb();
  const batch = await newBatch(t.db);
  const deps = { db: t.db, config: { instanceId: "A", leaseMs: 600 } };

  const running = new AbortController();
  const held = await holdRunLease(deps, batch.id, running);
  assert.ok(held.ok);
  await sleep(1500);
  assert.ok((await findLease(t.db, batch.id))!.remainingMs > 0, "renewed");
  assert.equal(await takeLease(t.db, batch.id, "B", 600), undefined);
  assert.equal(running.signal.aborted, false);

  // Another instance recovered the batch (as after a long stall here).
  await t.db.run(
    sql`UPDATE run_leases SET owner = 'B' WHERE batch_id = ${batch.id}`,
  );
  await waitFor("the run to stop", () => running.signal.aborted);
  assert.equal(running.signal.reason, "shutdown");
  await held.value.release();
  assert.equal((await findLease(t.db, batch.id))?.owner, "B", "B's stays");
  await releaseLease(t.db, batch.id, "B");

  const cancelled = new AbortController();
  const second = await holdRunLease(deps, batch.id, cancelled);
  assert.ok(second.ok);
  assert.equal(
    await runningElsewhere(t.db, { instanceId: "A" }, batch.id),
    false,
  );
  assert.equal(
    await runningElsewhere(t.db, { instanceId: "B" }, batch.id),
    true,
  );
  assert.equal(await cancelElsewhere(t.db, batch.id), true);
  await waitFor("the cancel", () => cancelled.signal.aborted);
  assert.equal(cancelled.signal.reason, "cancelled");
  await second.value.release();
  assert.equal(await findLease(t.db, batch.id), undefined, "released");
  assert.equal(await cancelElsewhere(t.db, batch.id), false);
  assert.equal(
    await runningElsewhere(t.db, { instanceId: "B" }, batch.id),
    false,
  );
});

Deno.test("[recovery] recovery at start leaves a live instance's running batch alone and takes lapsed, ownerless and its own", async () => {
  await using t = await tempDb();
  const config = { instanceId: "me", leaseMs: 60_000, dataDir: t.dataDir };
  const live = await newBatch(t.db, "live elsewhere");
  const lapsed = await newBatch(t.db, "lapsed");
  const ownerless = await newBatch(t.db, "no lease");
  const mine = await newBatch(t.db, "my previous process");
  for (const b of [live, lapsed, ownerless, mine]) {
    await markRunning(t.db, b.id);
  }
  assert.ok(await takeLease(t.db, live.id, "other", 60_000));
  assert.ok(await takeLease(t.db, lapsed.id, "other", 1));
  assert.ok(await takeLease(t.db, mine.id, "me", 60_000));
  // A temp file of the live run must survive recovery.
  const liveDir = join(t.imagesDir, live.id);
  await Deno.mkdir(liveDir, { recursive: true });
  const temp = join(liveDir, ".0000-0.png.tmp-0123456789abcdef");
  await Deno.writeFile(temp, new Uint8Array([1, 2, 3]));
  await sleep(5);

  const recovered = await recoverAfterCrash(t.db, t.imagesDir, config);
  assert.equal(recovered.batches, 3);
  assert.equal((await findBatchById(t.db, live.id))?.status, "running");
  assert.equal((await findLease(t.db, live.id))?.owner, "other");
  await Deno.stat(temp); // still there
  for (const b of [lapsed, ownerless, mine]) {
    const after = await findBatchById(t.db, b.id);
    assert.equal(after?.status, "interrupted", b.title);
    assert.match(after?.statusMessage ?? "", /Resume/);
    assert.equal(await findLease(t.db, b.id), undefined, "recovery let go");
  }
});

Deno.test("[recovery] a lease whose instance's process is gone (its lock file is free) is recovered before it lapses", async () => {
  await using t = await tempDb();
  const config = { instanceId: "me", leaseMs: 60_000, dataDir: t.dataDir };
  const alive = await claimInstance(t.dataDir, "alive");
  try {
    // "gone" left its lock file; no process holds it any more.
    const gone = await claimInstance(t.dataDir, "gone");
    gone.release();
    const ofGone = await newBatch(t.db, "gone");
    const ofAlive = await newBatch(t.db, "alive");
    for (const b of [ofGone, ofAlive]) await markRunning(t.db, b.id);
    assert.ok(await takeLease(t.db, ofGone.id, "gone", 60_000));
    assert.ok(await takeLease(t.db, ofAlive.id, "alive", 60_000));

    const recovered = await recoverAfterCrash(t.db, t.imagesDir, config);
    assert.equal(recovered.batches, 1);
    assert.equal((await findBatchById(t.db, ofGone.id))?.status, "interrupted");
    assert.equal((await findBatchById(t.db, ofAlive.id))?.status, "running");
    const locks = [...Deno.readDirSync(instancesDir(t.dataDir))].map((e) =>
      e.name
    ).sort();
    assert.deepEqual(locks, ["alive.lock"], "the dead one's lock file went");
  } finally {
    alive.release();
  }
});

Deno.test("[leases] a second live process under the same instance id is refused", async () => {
  await using t = await tempDb();
  const first = await claimInstance(t.dataDir, "same");
  try {
    await assert.rejects(
      () => claimInstance(t.dataDir, "same", { waitMs: 200 }),
      InstanceIdInUseError,
    );
  } finally {
    first.release();
  }
  (await claimInstance(t.dataDir, "same", { waitMs: 200 })).release();
});
