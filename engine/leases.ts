/**
 * Run leases: when several instances share one database, each run is owned
 * through a row in `run_leases` (db/lease_queries.ts). Starting a run takes
 * the batch's lease in one conditional write; a heartbeat renews it every
 * `leaseMs / 3` while the run lasts; the run's end gives it up. An instance
 * that dies stops renewing, and its lease lapses after `leaseMs`: only then
 * may another instance mark the batch interrupted (engine/recovery.ts), so a
 * live instance's run is never taken from it.
 *
 * Instances that share a data dir also hold a lock file each
 * (`<dataDir>/instances/<id>.lock`, an OS lock the kernel drops when the
 * process dies). A lease whose owner's lock is free belongs to a dead
 * process, and is recovered at once instead of after `leaseMs` — the one-box
 * case: a restarted server finds its crashed predecessor's runs at start.
 * The lock also refuses a second live process under the same instance id.
 */
import { join } from "node:path";
import type { Db } from "../db/client.ts";
import {
  findLease,
  ownersWithLeases,
  releaseLease,
  renewLease,
  requestCancel,
  takeLease,
} from "../db/lease_queries.ts";
import type { Config } from "../core/config.ts";
import { refuse, type Result } from "../core/result.ts";
import type { Logger } from "../lib/log.ts";
import { runningElsewhereMessage } from "./active_runs.ts";

/** What leases read from the configuration. */
export type LeaseConfig = Pick<Config, "instanceId" | "leaseMs">;

/** The owner name of the leases an instance takes to recover a batch. */
export function recoveryOwner(instanceId: string): string {
  // Instance ids are [\w.:-]: a "/" never occurs in one.
  return `${instanceId}/recovery`;
}

/** Every lease owner name an instance uses. */
export function ownerNames(instanceId: string): string[] {
  return [instanceId, recoveryOwner(instanceId)];
}

/** How often a lease is renewed, and the lease keeper looks for lapsed ones. */
export function heartbeatMs(leaseMs: number): number {
  return Math.max(50, Math.floor(leaseMs / 3));
}

/** A run's hold on its batch. */
export interface RunLease {
  readonly batchId: string;
  readonly owner: string;
  /** Stops the heartbeat and gives the lease up (never throws). */
  release(): Promise<void>;
  /**
   * Stops the heartbeat and keeps the lease, as a crash would (tests): the
   * lease lapses `leaseMs` after its last renewal.
   */
  abandon(): Promise<void>;
}

/**
 * Takes the batch's lease for a run of this instance and starts its
 * heartbeat. Refused ("already_running") while another live instance holds
 * it. A lease in this instance's own name is stale (the caller has just
 * registered the run in ActiveRuns, so no run of this process holds it).
 * When the lease is lost (another instance recovered the batch, or it was
 * deleted) or cannot be renewed for most of its time, `controller` is
 * aborted so the generator stops before anyone else can resume the batch;
 * a cancel asked on another instance aborts it as "cancelled".
 */
export async function holdRunLease(
  deps: { db: Db; config: LeaseConfig; log?: Logger },
  batchId: string,
  controller: AbortController,
): Promise<Result<RunLease>> {
  const { db, config } = deps;
  const owner = config.instanceId;
  const taken = await takeLease(db, batchId, owner, config.leaseMs, [owner]);
  if (!taken) {
    const held = await findLease(db, batchId);
    return refuse(
      "already_running",
      runningElsewhereMessage(held ? Math.max(0, held.remainingMs) : 0),
    );
  }
  const beat = heartbeat(deps, batchId, owner, controller);
  let done = false;
  return {
    ok: true,
    value: {
      batchId,
      owner,
      async release() {
        if (done) return;
        done = true;
        await beat.stop();
        try {
          await releaseLease(db, batchId, owner);
        } catch (error) {
          // It lapses by itself; another instance may then tidy the batch.
          deps.log?.warn("could not release a run lease", {
            batchId,
            error: String(error),
          });
        }
      },
      async abandon() {
        done = true;
        await beat.stop();
      },
    },
  };
}

/**
 * Whether another live instance runs (or recovers) the batch: for routes
 * that act on a batch this process does not run (delete, cancel, a page's
 * "running" state).
 */
export async function runningElsewhere(
  db: Db,
  config: Pick<LeaseConfig, "instanceId">,
  batchId: string,
): Promise<boolean> {
  const lease = await findLease(db, batchId);
  return lease !== undefined && lease.remainingMs > 0 &&
    lease.owner !== config.instanceId;
}

/**
 * Asks the instance that runs the batch to cancel it; it stops at its next
 * heartbeat (within `leaseMs / 3`). False when no live instance runs it.
 */
export async function cancelElsewhere(
  db: Db,
  batchId: string,
): Promise<boolean> {
  return await requestCancel(db, batchId);
}

/** Renews a lease every `leaseMs / 3` until stopped. */
function heartbeat(
  { db, config, log }: { db: Db; config: LeaseConfig; log?: Logger },
  batchId: string,
  owner: string,
  controller: AbortController,
): { stop(): Promise<void> } {
  const every = heartbeatMs(config.leaseMs);
  let lastRenewed = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  let stopped = false;
  const stopRun = (reason: string, why: string) => {
    stopped = true;
    if (!controller.signal.aborted) {
      log?.warn(why, { batchId });
      controller.abort(reason);
    }
  };
  const beat = async () => {
    try {
      const lease = await renewLease(db, batchId, owner, config.leaseMs);
      if (!lease) {
        return stopRun(
          "shutdown",
          "run lease lost: another instance recovered this batch",
        );
      }
      lastRenewed = Date.now();
      if (lease.cancelRequested) {
        stopRun("cancelled", "run cancelled from another instance");
      }
    } catch (error) {
      log?.warn("could not renew a run lease", {
        batchId,
        error: String(error),
      });
      // Past most of its time, another instance may take the batch soon:
      // stop first, so two generators never run one batch.
      if (Date.now() - lastRenewed > config.leaseMs * 0.6) {
        stopRun("shutdown", "run lease could not be renewed; stopping the run");
      }
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      inFlight = beat().finally(schedule);
    }, every);
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
    },
  };
}

// --- Instances on one data dir: lock files ---------------------------------

/** Where instances sharing a data dir keep their lock files. */
export function instancesDir(dataDir: string): string {
  return join(dataDir, "instances");
}

function lockPath(dir: string, instanceId: string): string {
  return join(dir, `${encodeURIComponent(instanceId)}.lock`);
}

function instanceOfLock(name: string): string | undefined {
  if (!name.endsWith(".lock")) return undefined;
  try {
    return decodeURIComponent(name.slice(0, -".lock".length));
  } catch {
    return undefined;
  }
}

/** This process's hold on its instance id in a data dir. */
export interface InstanceLock {
  readonly path: string;
  release(): void;
}

/** Thrown when another live process already uses this instance id here. */
export class InstanceIdInUseError extends Error {
  override name = "InstanceIdInUseError";
}

/**
 * Locks `<dataDir>/instances/<instanceId>.lock` for this process's life.
 * Waits up to `waitMs` (another instance may be probing the lock for a
 * moment), then refuses: two live processes with one instance id would
 * take each other's leases.
 */
export async function claimInstance(
  dataDir: string,
  instanceId: string,
  { waitMs = 5000 }: { waitMs?: number } = {},
): Promise<InstanceLock> {
  const dir = instancesDir(dataDir);
  await Deno.mkdir(dir, { recursive: true });
  const path = lockPath(dir, instanceId);
  const deadline = Date.now() + waitMs;
  while (true) {
    const file = await Deno.open(path, {
      read: true,
      write: true,
      create: true,
    });
    let locked = false;
    try {
      locked = await file.tryLock(true);
      // A prober that found a dead owner removes its file while it holds
      // the lock: a lock on a removed file proves nothing, so try again.
      if (locked && await sameFile(file, path)) {
        return {
          path,
          release() {
            try {
              file.close();
            } catch {
              // Already closed.
            }
          },
        };
      }
    } catch (error) {
      file.close();
      throw error;
    }
    file.close();
    if (Date.now() > deadline) {
      throw new InstanceIdInUseError(
        `another running BatchGen uses the instance id "${instanceId}" with this data dir; ` +
          "give each instance its own BATCHGEN_INSTANCE_ID (or leave it unset)",
      );
    }
    await new Promise((resolve) => setTimeout(resolve, locked ? 10 : 100));
  }
}

async function sameFile(file: Deno.FsFile, path: string): Promise<boolean> {
  try {
    const [open, named] = await Promise.all([file.stat(), Deno.stat(path)]);
    return open.ino === named.ino && open.dev === named.dev;
  } catch {
    return false;
  }
}

/** Instances found dead by their free lock files, held until released. */
export interface DeadOwners {
  /** Lease owner names of the dead instances (run and recovery names). */
  readonly voidOwners: readonly string[];
  /**
   * Lets the locks go; a dead instance's lock file is removed once no lease
   * names it any more.
   */
  release(db: Db): Promise<void>;
}

/**
 * Finds the instances sharing this data dir whose process is gone (their
 * lock is free) and holds their locks, so none of them can come back under
 * the same id while their leases are being recovered.
 */
export async function probeDeadOwners(
  dataDir: string,
  self: string,
): Promise<DeadOwners> {
  const dir = instancesDir(dataDir);
  const held: { id: string; path: string; file: Deno.FsFile }[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const id = entry.isFile ? instanceOfLock(entry.name) : undefined;
      if (id === undefined || id === self) continue;
      const path = join(dir, entry.name);
      let file: Deno.FsFile;
      try {
        file = await Deno.open(path, { read: true, write: true });
      } catch {
        continue; // Removed by another prober meanwhile.
      }
      if (await file.tryLock(true).catch(() => false)) {
        held.push({ id, path, file });
      } else file.close();
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return {
    voidOwners: held.flatMap(({ id }) => ownerNames(id)),
    async release(db) {
      let named = new Set<string>();
      try {
        named = await ownersWithLeases(
          db,
          held.flatMap(({ id }) => ownerNames(id)),
        );
      } catch {
        named = new Set(held.flatMap(({ id }) => ownerNames(id)));
      }
      for (const { id, path, file } of held) {
        if (!ownerNames(id).some((owner) => named.has(owner))) {
          await Deno.remove(path).catch(() => {});
        }
        file.close();
      }
    },
  };
}
