/**
 * The JSON API (design.md §7): the same engine for scripts, as a sub-app
 * whose every answer, errors included, is JSON.
 */
import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../env.ts";
import { apiBatchRoutes } from "./batches.ts";
import { apiKeyRoutes } from "./keys.ts";
import { apiReferenceRoutes } from "./references.ts";
import { apiRunRoutes } from "./runs.ts";
import { apiGoogleBatchRoutes } from "./google_batch.ts";
import { apiError } from "../problem.ts";
import { answerError } from "../errors.ts";

/** Routes under /api. */
export function apiRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.route("/", apiKeyRoutes(deps));
  app.route("/", apiRunRoutes(deps));
  app.route("/", apiBatchRoutes(deps));
  app.route("/", apiReferenceRoutes(deps));
  app.route("/", apiGoogleBatchRoutes(deps));
  app.notFound((c) => apiError(c, "not_found", "No such API route."));
  app.onError((error, c) => answerError(error, c, deps.log));
  return app;
}
