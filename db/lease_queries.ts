/**
 * The SQL of run leases (engine/leases.ts decides when to call it). Each
 * write is one conditional statement, so two instances racing for a batch
 * cannot both win: SQLite (or the libSQL server) applies one after the
 * other, and the loser's condition no longer holds. Times are the database's
 * clock, never an instance's: instances on different machines compare one
 * clock.
 */
import { sql } from "drizzle-orm";
import type { Db } from "./client.ts";

/** Milliseconds since the epoch on the database's clock. */
const NOW_MS =
  sql`CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)`;

/** A lease as stored. */
export interface LeaseRow {
  batchId: string;
  owner: string;
  /** When it lapses (ms, the database's clock). */
  expiresAt: number;
  /** Milliseconds left, on the database's clock (negative: lapsed). */
  remainingMs: number;
  cancelRequested: boolean;
}

interface RawLease {
  batch_id: string;
  owner: string;
  expires_at: number;
  remaining_ms: number;
  cancel_requested: number;
}

function toLease(row: RawLease): LeaseRow {
  return {
    batchId: row.batch_id,
    owner: row.owner,
    expiresAt: Number(row.expires_at),
    remainingMs: Number(row.remaining_ms),
    cancelRequested: Boolean(Number(row.cancel_requested)),
  };
}

const LEASE_COLUMNS = sql`batch_id, owner, expires_at,
  expires_at - ${NOW_MS} AS remaining_ms, cancel_requested`;

function ownerList(owners: readonly string[]) {
  // `IN ()` is not SQL: an owner name no instance has stands in for none.
  const list = owners.length > 0 ? owners : [""];
  return sql.join(list.map((owner) => sql`${owner}`), sql`, `);
}

/**
 * Takes the batch's lease for `owner` for `ms`, in one statement: when no
 * lease exists, when the one there has lapsed, or when its owner is one of
 * `voidOwners` (owners known to be gone, or this instance's own stale name).
 * Returns the lease taken, or undefined when another owner holds it.
 */
export async function takeLease(
  db: Db,
  batchId: string,
  owner: string,
  ms: number,
  voidOwners: readonly string[] = [],
): Promise<LeaseRow | undefined> {
  const [row] = await db.all<RawLease>(sql`
    INSERT INTO run_leases
      (batch_id, owner, expires_at, acquired_at, cancel_requested)
    VALUES (${batchId}, ${owner}, ${NOW_MS} + ${ms}, ${NOW_MS}, 0)
    ON CONFLICT (batch_id) DO UPDATE SET
      owner = excluded.owner,
      expires_at = excluded.expires_at,
      acquired_at = excluded.acquired_at,
      cancel_requested = 0
    WHERE run_leases.expires_at <= ${NOW_MS}
      OR run_leases.owner IN (${ownerList(voidOwners)})
    RETURNING ${LEASE_COLUMNS}`);
  return row && toLease(row);
}

/**
 * Extends the owner's lease by `ms` from now; undefined when the lease is no
 * longer the owner's (recovered by another instance, or its batch deleted).
 */
export async function renewLease(
  db: Db,
  batchId: string,
  owner: string,
  ms: number,
): Promise<LeaseRow | undefined> {
  const [row] = await db.all<RawLease>(sql`
    UPDATE run_leases SET expires_at = ${NOW_MS} + ${ms}
    WHERE batch_id = ${batchId} AND owner = ${owner}
    RETURNING ${LEASE_COLUMNS}`);
  return row && toLease(row);
}

/** Gives the lease up; only its owner can. True when there was one to give. */
export async function releaseLease(
  db: Db,
  batchId: string,
  owner: string,
): Promise<boolean> {
  const rows = await db.all(sql`
    DELETE FROM run_leases WHERE batch_id = ${batchId} AND owner = ${owner}
    RETURNING batch_id`);
  return rows.length > 0;
}

/** The batch's lease, lapsed or not, if it has one. */
export async function findLease(
  db: Db,
  batchId: string,
): Promise<LeaseRow | undefined> {
  const [row] = await db.all<RawLease>(sql`
    SELECT ${LEASE_COLUMNS} FROM run_leases WHERE batch_id = ${batchId}`);
  return row && toLease(row);
}

/**
 * Asks the owner of a live lease to cancel its run (the owner sees it at
 * its next heartbeat). False when no live lease holds the batch.
 */
export async function requestCancel(db: Db, batchId: string): Promise<boolean> {
  const rows = await db.all(sql`
    UPDATE run_leases SET cancel_requested = 1
    WHERE batch_id = ${batchId} AND expires_at > ${NOW_MS}
    RETURNING batch_id`);
  return rows.length > 0;
}

/**
 * Batches marked `running` that no live instance holds: no lease, a lapsed
 * one, or one whose owner is in `voidOwners`. Crash recovery takes these.
 */
export async function unheldRunningBatches(
  db: Db,
  voidOwners: readonly string[] = [],
): Promise<string[]> {
  const rows = await db.all<{ id: string }>(sql`
    SELECT b.id AS id FROM batches b
    LEFT JOIN run_leases l ON l.batch_id = b.id
    WHERE b.status = 'running' AND (
      l.batch_id IS NULL
      OR l.expires_at <= ${NOW_MS}
      OR l.owner IN (${ownerList(voidOwners)}))
    ORDER BY b.id`);
  return rows.map((r) => r.id);
}

/** Whether any lease names one of `owners` (lapsed or not). */
export async function ownersWithLeases(
  db: Db,
  owners: readonly string[],
): Promise<Set<string>> {
  if (owners.length === 0) return new Set();
  const rows = await db.all<{ owner: string }>(sql`
    SELECT DISTINCT owner FROM run_leases
    WHERE owner IN (${ownerList(owners)})`);
  return new Set(rows.map((r) => r.owner));
}
