/** The JSON API's error shape and the 404 it answers for foreign or unknown batches. */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppDeps, AppEnv } from "./env.ts";
import { getBatch } from "../db/batch_queries.ts";
import type { Batch } from "../db/schema.ts";

/** `{ error: { code, message } }` with a status. */
export function apiError(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  extra = {},
) {
  return c.json({ error: { code, message, ...extra } }, status);
}

/**
 * Wraps a `/batches/:id…` handler: it runs only for a batch of the caller's
 * workspace; any other id (unknown or another workspace's) answers the same 404.
 */
export function withOwnBatch(
  { db }: Pick<AppDeps, "db">,
  handler: (c: Context<AppEnv>, batch: Batch) => Response | Promise<Response>,
) {
  return async (c: Context<AppEnv>) => {
    const batch = await getBatch(
      db,
      c.get("workspaceId"),
      c.req.param("id") ?? "",
    );
    if (!batch) {
      return apiError(
        c,
        404,
        "not_found",
        "There is no such batch in this workspace.",
      );
    }
    return await handler(c, batch);
  };
}
