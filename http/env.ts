/** Hono environment types shared by the app and its routes. */
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import type { Logger } from "../lib/log.ts";
import type { ActiveRuns } from "../engine/active_runs.ts";
import type { spawnGenerator } from "../engine/runner.ts";
import type { checkKey } from "../engine/key_check.ts";
import type { RateLimits } from "./middleware/rate_limit.ts";

/** Everything the app needs, passed in (no globals). */
export interface AppDeps {
  db: Db;
  config: Config;
  log: Logger;
  activeRuns: ActiveRuns;
  spawn: typeof spawnGenerator;
  checkKey: typeof checkKey;
  /** Per-client limits; default: core/limits.ts on the real clock. */
  rateLimits?: RateLimits;
}

export interface AppEnv {
  Variables: {
    workspaceId: string;
    workspaceToken: string;
    /** Why a key may not be sent on this connection (K7); unset when it may. */
    keyBlocked?: string;
  };
  Bindings: { remoteAddr?: { hostname: string } };
}
