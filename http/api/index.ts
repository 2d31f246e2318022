/** The JSON API (design.md §7): the same engine for scripts. */
import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../env.ts";
import { apiBatchRoutes } from "./batches.ts";
import { apiError } from "../problem.ts";
import { apiRunRoutes } from "./runs.ts";

/** Routes under /api. */
export function apiRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.route("/", apiRunRoutes(deps));
  app.route("/", apiBatchRoutes(deps));
  app.notFound((c) => apiError(c, 404, "not_found", "No such API route."));
  return app;
}
