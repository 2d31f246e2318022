/** Hono environment types shared by the app and its routes. */
import type { Config } from "../core/config.ts";
import type { Logger } from "../lib/log.ts";
import type { EngineDeps } from "../engine/deps.ts";
import type { CheckKey } from "../engine/key_check.ts";
import type { RateLimits } from "./middleware/rate_limit.ts";

/** Everything the app needs, passed in (no globals). */
export interface AppDeps extends EngineDeps {
  config: Config;
  log: Logger;
  checkKey: CheckKey;
  /** Per-client limits; default: core/limits.ts on the real clock. */
  rateLimits?: RateLimits;
}

/** What this request's connection allows, decided once per request. */
export interface Transport {
  /** The request arrived over HTTPS (here, or at a trusted proxy). */
  https: boolean;
  /** Cookies must be Secure (HTTPS, or any request behind a declared proxy). */
  secureCookies: boolean;
  /** The client's address (the trusted proxy's view when there is one). */
  clientAddress: string | undefined;
  /** Origins a same-site browser request may name (CSRF). */
  ownOrigins: ReadonlySet<string>;
  /** Why a key must not be sent on this request; undefined when it may (K7). */
  keyProblem: string | undefined;
}

export interface AppEnv {
  Variables: {
    workspaceId: string;
    workspaceToken: string;
    /** What this request's connection allows (K7), decided once. */
    transport: Transport;
  };
  Bindings: {
    remoteAddr?: { hostname: string };
    /** The connection is the server's own TLS listener (not the URL's say). */
    tls?: boolean;
  };
}
