/**
 * Operations: `GET /healthz` (the process answers), `GET /readyz` (the
 * database, the image store and free disk), `GET /metrics` (Prometheus
 * text), and the request context every request runs in: a request id on
 * its log lines and in `X-Request-Id`, and its latency in the metrics.
 *
 * None of these routes reads or sets a workspace cookie: app.ts registers
 * them before the workspace middleware. /healthz and /readyz are also
 * before Basic auth (a load balancer's probe has no password); /metrics is
 * after it.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { matchedRoutes } from "hono/route";
import { sql } from "drizzle-orm";
import { statfs } from "node:fs/promises";
import { join } from "node:path";
import type { AppEnv } from "./env.ts";
import type { Config } from "../core/config.ts";
import type { Db } from "../db/client.ts";
import { looksLikeApiKey } from "../core/scrub.ts";
import type { Logger } from "../lib/log.ts";
import { withRequestId } from "../lib/log.ts";
import { type Metrics, METRICS_CONTENT_TYPE } from "../lib/metrics.ts";
import { imageStoreFor } from "../lib/image_store.ts";

/** A readiness check gives up after this long (a hung DB is not ready). */
const CHECK_TIMEOUT_MS = 3_000;

/** An incoming `X-Request-Id` is kept when it is a short plain token. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

const METHODS = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
]);

/**
 * The request id: the client's (a proxy's) `X-Request-Id` when it is a
 * plain token of up to 64 characters that does not look like a key, else a
 * new random one.
 */
export function requestIdOf(incoming: string | undefined): string {
  const given = incoming?.trim();
  if (given && REQUEST_ID.test(given) && !looksLikeApiKey(given)) return given;
  return crypto.randomUUID();
}

/**
 * The route pattern that answered (`/batches/:id`), never the raw path: the
 * handler that responded, or — when a middleware answered first (401, 421,
 * 429) — the route the request was headed for; "(unmatched)" for a 404.
 */
export function routeLabel(c: Context): string {
  const routes = matchedRoutes(c);
  const answered = routes[c.req.routeIndex];
  if (answered && answered.method !== "ALL") return answered.path;
  const headedFor = routes.slice(c.req.routeIndex + 1).find((r) =>
    r.method !== "ALL"
  );
  return headedFor?.path ?? "(unmatched)";
}

/**
 * Runs every request with its id in scope (lib/log.ts puts it on JSON log
 * lines), echoes it in `X-Request-Id`, and records the time until the
 * response in the metrics.
 */
export function requestContext(metrics: Metrics) {
  return createMiddleware<AppEnv>(async function requestContext(c, next) {
    const started = performance.now();
    const id = requestIdOf(c.req.header("x-request-id"));
    c.header("X-Request-Id", id);
    try {
      await withRequestId(id, next);
    } finally {
      if (c.res.headers.get("x-request-id") !== id) {
        try {
          c.res.headers.set("X-Request-Id", id);
        } catch {
          // A response with immutable headers keeps them.
        }
      }
      const method = c.req.method.toUpperCase();
      metrics.observeHttp({
        method: METHODS.has(method) ? method : "other",
        route: routeLabel(c),
        status: c.res.status,
      }, (performance.now() - started) / 1000);
    }
  });
}

/** What /readyz checks. */
export interface ReadyDeps {
  db: Db;
  config: Pick<
    Config,
    "dataDir" | "imagesDir" | "minFreeDiskBytes" | "storage"
  >;
  log: Logger;
}

type Check = () => Promise<void>;

/** A failed check: `reason` is shown, `detail` is only logged. */
class NotReady extends Error {
  constructor(readonly reason: string, readonly detail?: unknown) {
    super(reason);
  }
}

function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new NotReady(`no answer within ${ms / 1000} s`)),
      ms,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function megabytes(bytes: number): string {
  return `${Math.floor(bytes / (1024 * 1024))} MB`;
}

/** The checks of /readyz, by name. */
export function readinessChecks(
  { db, config }: Omit<ReadyDeps, "log">,
): Record<string, Check> {
  return {
    async database() {
      try {
        await db.run(sql`select 1`);
      } catch (error) {
        throw new NotReady("the database does not answer", error);
      }
    },
    async images() {
      if (config.storage.kind !== "local") {
        try {
          await imageStoreFor(config).check();
        } catch (error) {
          throw new NotReady("the image store does not answer", error);
        }
        return;
      }
      // Writable, not just present: a probe file, removed at once, named
      // like lib/storage.ts's temp files (`isTempFileName`), never like an
      // image or a batch folder.
      const probe = join(
        config.imagesDir,
        `.readyz.tmp-${crypto.randomUUID().replace(/-/g, "").slice(0, 16)}`,
      );
      try {
        await Deno.writeFile(probe, new Uint8Array([1]), { createNew: true });
      } catch (error) {
        throw new NotReady("the image folder is not writable", error);
      }
      await Deno.remove(probe).catch(() => {});
    },
    async disk() {
      let free: number;
      try {
        const fs = await statfs(config.dataDir);
        free = Number(fs.bavail) * Number(fs.bsize);
      } catch (error) {
        throw new NotReady("free disk space cannot be read", error);
      }
      if (free < config.minFreeDiskBytes) {
        throw new NotReady(
          `${megabytes(free)} free in the data folder, below the minimum of ${
            megabytes(config.minFreeDiskBytes)
          } (BATCHGEN_MIN_FREE_DISK_MB)`,
        );
      }
    },
  };
}

/** An error and its causes, one line each (a DB driver wraps the reason). */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (let e = error, depth = 0; e !== undefined && depth < 4; depth++) {
    if (!(e instanceof Error)) {
      parts.push(String(e));
      break;
    }
    parts.push(`${e.name}: ${e.message.trim()}`);
    e = e.cause;
  }
  return parts.join(" ← ");
}

/** Runs every check at once; "ok" or the reason, by check name (in order). */
async function runChecks(
  checks: Record<string, Check>,
): Promise<
  { results: Record<string, string>; details: Record<string, string> }
> {
  const outcomes = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await within(CHECK_TIMEOUT_MS, check());
        return { name, reason: "ok" };
      } catch (error) {
        const notReady = error instanceof NotReady
          ? error
          : new NotReady("the check failed", error);
        return {
          name,
          reason: notReady.reason,
          detail: notReady.detail === undefined
            ? undefined
            : describe(notReady.detail),
        };
      }
    }),
  );
  const results: Record<string, string> = {};
  const details: Record<string, string> = {};
  for (const { name, reason, detail } of outcomes) {
    results[name] = reason;
    if (detail !== undefined) details[name] = detail;
  }
  return { results, details };
}

/** `GET /healthz` and `GET /readyz`: open to probes, no cookie, no store. */
export function probeRoutes(deps: ReadyDeps) {
  const app = new Hono<AppEnv>();
  const checks = readinessChecks(deps);
  let wasReady: boolean | undefined;

  // The process is up and its event loop turns: nothing else is touched.
  app.get("/healthz", (c) => c.json({ ok: true }));

  app.get("/readyz", async (c) => {
    const { results, details } = await runChecks(checks);
    const failing = Object.keys(results).filter((n) => results[n] !== "ok")
      .sort();
    const ready = failing.length === 0;
    // Logged when readiness changes, not on every probe.
    if (ready !== wasReady) {
      if (ready) deps.log.info("ready", { checks: results });
      else deps.log.warn("not ready", { failing, checks: results, details });
      wasReady = ready;
    }
    return c.json(
      ready
        ? { ok: true, checks: results }
        : { ok: false, failing, checks: results },
      ready ? 200 : 503,
    );
  });
  return app;
}

/** `GET /metrics` in Prometheus text format. */
export function metricsRoutes(metrics: Metrics) {
  const app = new Hono<AppEnv>();
  app.get(
    "/metrics",
    (c) =>
      c.body(metrics.render(), 200, { "Content-Type": METRICS_CONTENT_TYPE }),
  );
  return app;
}
