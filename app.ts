/** Builds the Hono app from its dependencies; no I/O on import. */
import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppDeps, AppEnv } from "./http/env.ts";
import { LIMITS } from "./core/limits.ts";
import { apiRoutes } from "./http/api/index.ts";
import { answerError } from "./http/errors.ts";
import {
  cacheRules,
  readableForm,
  securityHeaders,
} from "./http/middleware/headers.ts";
import { allowedHosts } from "./http/middleware/allowed_hosts.ts";
import { basicAuth } from "./http/middleware/basic_auth.ts";
import { createRateLimits } from "./http/middleware/rate_limit.ts";
import { rateLimited } from "./http/middleware/rate_limited.tsx";
import { sameOrigin } from "./http/middleware/same_origin.ts";
import { transport } from "./http/middleware/transport.ts";
import { workspace } from "./http/middleware/workspace.ts";
import { assetRoutes } from "./http/pages/assets.ts";
import { batchRoutes } from "./http/pages/batches.tsx";
import { newBatchRoutes } from "./http/pages/new_batch.tsx";
import { galleryRoutes } from "./http/pages/gallery.tsx";
import { imageRoutes } from "./http/pages/images.ts";
import { keyRoutes } from "./http/pages/keys.tsx";
import { referenceRoutes } from "./http/pages/references.ts";
import { runRoutes } from "./http/pages/runs.tsx";
import { googleBatchRoutes } from "./http/pages/google_batch.tsx";
import { reuseRoutes } from "./http/pages/batch_copies.tsx";
import { notFoundPage, pageRoutes } from "./http/pages/static_pages.tsx";
import { isApiRequest, problemResponse } from "./http/problem.ts";
import { metricsRoutes, probeRoutes, requestContext } from "./http/ops.ts";
import { attachMetrics, Metrics } from "./lib/metrics.ts";

export type { AppDeps };

/** The whole BatchGen web app. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const { config } = deps;
  // The deps object is kept as it is (tests swap its parts after this), and
  // given the configured log format: every line the app and the engine log,
  // with the id of the request doing the work in JSON. The run routes count
  // run events into the metrics attached to it.
  if (deps.log.format !== config.logFormat) {
    deps.log = deps.log.withFormat(config.logFormat);
  }
  const metrics = new Metrics({
    runsActive: () => deps.activeRuns.size,
    runsMax: deps.activeRuns.maxTotal,
  });
  attachMetrics(deps, metrics);
  const app = new Hono<AppEnv>();

  // Before anything can answer: the request id (logs, X-Request-Id) and the
  // request's latency in the metrics.
  app.use(requestContext(metrics));
  // The connection's facts first: every later step reads them (K7).
  app.use(transport({ trustProxy: config.trustProxy }));
  app.use(allowedHosts(config.allowedHosts));
  app.use(securityHeaders());
  app.use(cacheRules());
  // Probes from a load balancer: no password, no workspace cookie.
  app.route("/", probeRoutes(deps));
  // Per-client limits (core/limits.ts).
  const limits = deps.rateLimits ?? createRateLimits();
  if (config.basicAuth) {
    // Every route but the probes, static assets included. A wrong password
    // is a 401 with WWW-Authenticate (answerError keeps the exception's own
    // response).
    app.use(basicAuth(config.basicAuth, limits.authFailures));
  }
  // Behind Basic auth when it is set; no workspace cookie.
  app.route("/", metricsRoutes(metrics));
  app.route("/", assetRoutes());
  app.use(sameOrigin());
  app.use(bodyLimits());
  app.use(readableForm());
  app.use(workspace(deps));

  app.on(
    "POST",
    ["/keys/validate", "/api/keys/validate"],
    rateLimited(limits.keyChecks, "key checks"),
  );
  app.on(
    "POST",
    ["/batches/:id/run", "/api/batches/:id/run"],
    rateLimited(limits.runStarts, "runs started"),
  );
  app.on(
    "POST",
    ["/batches", "/api/batches"],
    rateLimited(limits.batchCreates, "new batches"),
  );

  app.route("/api", apiRoutes(deps));
  app.route("/", keyRoutes(deps));
  app.route("/", runRoutes(deps));
  app.route("/", googleBatchRoutes(deps));
  app.route("/", imageRoutes(deps));
  app.route("/", referenceRoutes(deps));
  app.route("/", galleryRoutes(deps)); // the gallery and History
  app.route("/", newBatchRoutes(deps));
  app.route("/", batchRoutes(deps));
  app.route("/", reuseRoutes(deps));
  app.route("/", pageRoutes());

  app.notFound((c) =>
    isApiRequest(c)
      ? problemResponse(c, { code: "not_found", message: "No such API route." })
      : notFoundPage(c)
  );
  app.onError((error, c) => answerError(error, c, deps.log));
  return app;
}

/**
 * Uploads that carry images (multipart bodies to a reference upload, the
 * new-batch form and its estimate) may be up to `LIMITS.uploadBodyBytes`;
 * every other body, those routes' plain forms included, stays under
 * `LIMITS.formBodyBytes`, so a large body is read only where a handler
 * expects files.
 */
const UPLOAD_ROUTES = new Set([
  "POST /api/references",
  "POST /batches",
  "POST /batches/estimate",
]);
const MULTIPART = /^multipart\/form-data\b/i;

function bodyLimits(): MiddlewareHandler<AppEnv> {
  const limitOf = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: (c) =>
        problemResponse(c, {
          code: "body_too_large",
          message: `The request body is too large (at most ${maxSize} bytes).`,
        }),
    });
  const upload = limitOf(LIMITS.uploadBodyBytes);
  const form = limitOf(LIMITS.formBodyBytes);
  return function bodyLimits(c, next) {
    const isUpload = UPLOAD_ROUTES.has(`${c.req.method} ${c.req.path}`) &&
      MULTIPART.test(c.req.header("content-type") ?? "");
    return isUpload ? upload(c, next) : form(c, next);
  };
}
