/**
 * Serves reference images for `<img>` thumbnails on pages, only to the
 * workspace that uploaded them. The JSON API serves the same answer
 * (http/api/references.ts) with its own 404.
 */
import { type Context, Hono } from "hono";
import type { AppDeps, AppEnv } from "../env.ts";
import { getReference } from "../../db/reference_queries.ts";
import { readReferenceFile } from "../../engine/references.ts";

/**
 * The bytes of the caller's reference image `:id`, or undefined for an id
 * that is unknown, another workspace's, or whose file is gone.
 */
export async function ownReferenceFile(
  { db, config }: Pick<AppDeps, "db" | "config">,
  c: Context<AppEnv>,
): Promise<Response | undefined> {
  const ref = await getReference(
    db,
    c.get("workspaceId"),
    c.req.param("id") ?? "",
  );
  const bytes = ref && await readReferenceFile(config.referencesDir, ref);
  if (!ref || !bytes) return undefined;
  return new Response(bytes, {
    headers: {
      // The type sniffed from the bytes at upload, never the client's word.
      "content-type": ref.mimeType,
      "content-length": String(bytes.length),
      // An id always names the same bytes, so the answer never goes stale.
      "cache-control": "private, max-age=31536000, immutable",
      "x-content-type-options": "nosniff",
    },
  });
}

/** `GET /references/:id`. */
export function referenceRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.get(
    "/references/:id",
    async (c) => await ownReferenceFile(deps, c) ?? c.text("Not found", 404),
  );
  return app;
}
