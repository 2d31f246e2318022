/** What the engine needs from outside, passed in (no globals). */
import type { Db } from "../db/client.ts";
import type { Config } from "../core/config.ts";
import type { Logger } from "../lib/log.ts";
import type { ActiveRuns } from "./active_runs.ts";
import type { SpawnGenerator } from "./runner.ts";
import type { QuotaPacers } from "./quota_pacer.ts";
import type { SpawnGate } from "./spawn_gate.ts";

/** The settings a run reads. */
export type RunConfig = Pick<
  Config,
  | "imagesDir"
  | "referencesDir"
  | "storage"
  | "geminiBaseUrl"
  | "childEnv"
  | "requestTimeoutMs"
  | "maxAttempts"
  | "dataDir"
>;

/** Dependencies of a run. */
export interface RunDeps {
  db: Db;
  config: RunConfig;
  log: Logger;
  spawn: SpawnGenerator;
  /**
   * The shared quota limiters (one per workspace + model); the process's
   * own registry when left out.
   */
  pacers?: QuotaPacers;
  /** Runs starting at a time; the process's own gate when left out. */
  spawnGate?: SpawnGate;
}

/** Dependencies of starting runs: a run's, the quota, and the runs in progress. */
export interface EngineDeps extends RunDeps {
  config: RunConfig & Pick<Config, "quota">;
  activeRuns: ActiveRuns;
}
