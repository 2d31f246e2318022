/**
 * The lease keeper of a serving instance: it holds the instance's lock file
 * in the data dir for the process's life, and every `leaseMs / 3` repairs
 * the running batches that no live instance holds any more — their lease
 * lapsed, or their instance's process is gone (engine/leases.ts) — as crash
 * recovery does at start. A batch that another live instance runs is never
 * touched.
 */
import type { Db } from "../db/client.ts";
import type { Config } from "../core/config.ts";
import type { Logger } from "../lib/log.ts";
import {
  claimInstance,
  heartbeatMs,
  type InstanceLock,
  probeDeadOwners,
  recoveryOwner,
} from "./leases.ts";
import { recoverUnheldRuns } from "./recovery.ts";

/** What the keeper needs. */
export interface LeaseKeeperDeps {
  db: Db;
  config: Pick<Config, "instanceId" | "leaseMs" | "dataDir" | "imagesDir">;
  log: Logger;
  /** The runs of this process (never recovered from under it). */
  activeRuns: { has(batchId: string): boolean };
  /** Between checks; default `leaseMs / 3`. */
  intervalMs?: number;
}

/** A running keeper. */
export interface LeaseKeeper {
  /** Runs one check now (tests; the timer runs them by itself). */
  check(): Promise<{ batches: number; files: number }>;
  /** Stops checking, waits for a check in progress, lets the lock go. */
  stop(): Promise<void>;
}

/**
 * Claims the instance id in the data dir (refused when another live process
 * uses it: `InstanceIdInUseError`) and starts the periodic check. Start it
 * before `recoverAfterCrash`, so that recovery may treat leases in this
 * instance's own name as a previous process's.
 */
export async function startLeaseKeeper(
  deps: LeaseKeeperDeps,
): Promise<LeaseKeeper> {
  const { db, config, log } = deps;
  const lock: InstanceLock = await claimInstance(
    config.dataDir,
    config.instanceId,
  );
  const every = deps.intervalMs ?? heartbeatMs(config.leaseMs);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;

  const check = async () => {
    const dead = await probeDeadOwners(config.dataDir, config.instanceId);
    try {
      const recovered = await recoverUnheldRuns(
        db,
        config.imagesDir,
        {
          owner: recoveryOwner(config.instanceId),
          leaseMs: config.leaseMs,
          voidOwners: dead.voidOwners,
          dataDir: config.dataDir,
        },
        (batchId) => deps.activeRuns.has(batchId),
      );
      if (recovered.batches > 0 || recovered.files > 0) {
        log.info("recovered runs that another instance left", {
          ...recovered,
        });
      }
      return recovered;
    } finally {
      await dead.release(db);
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = check().catch((error) =>
        log.warn("lease check failed", { error: String(error) })
      ).finally(schedule);
    }, every);
  };
  schedule();
  return {
    check() {
      const next = running.then(check);
      running = next.catch(() => {});
      return next;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      await running;
      lock.release();
    },
  };
}
