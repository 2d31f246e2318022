/** Hono environment types shared by the app and its routes. */
import type { Config } from "../core/config.ts";
import type { Logger } from "../lib/log.ts";
import type { EngineDeps } from "../engine/deps.ts";
import type { CheckKey } from "../engine/key_check.ts";
import type { RateLimits } from "./middleware/rate_limit.ts";
import type { Transport } from "./middleware/transport.ts";

/** Everything the app needs, passed in (no globals). */
export interface AppDeps extends EngineDeps {
  config: Config;
  log: Logger;
  checkKey: CheckKey;
  /** Per-client limits; default: core/limits.ts on the real clock. */
  rateLimits?: RateLimits;
}

export interface AppEnv {
  Variables: {
    workspaceId: string;
    workspaceToken: string;
    /** What this request's connection allows (K7), decided once. */
    transport: Transport;
  };
  Bindings: { remoteAddr?: { hostname: string } };
}
