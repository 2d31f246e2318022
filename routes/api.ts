/** The JSON API (design.md §7): the same engine for scripts. */
import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../app_env.ts";
import { apiBatchRoutes } from "./api_batches.ts";
import { apiError } from "./api_error.ts";
import { apiRunRoutes } from "./api_runs.ts";

/** Routes under /api. */
export function apiRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.route("/", apiRunRoutes(deps));
  app.route("/", apiBatchRoutes(deps));
  app.notFound((c) => apiError(c, 404, "not_found", "No such API route."));
  return app;
}
