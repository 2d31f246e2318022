/** Serves a batch's images with the stored content type; no path traversal. */
import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../env.ts";
import { findImage, getBatch } from "../../db/batch_queries.ts";
import { imagePath } from "../../engine/batch_files.ts";
import { mimeTypeOf, parseImageFileName } from "../../core/files.ts";

/** `GET /images/:batchId/:file`, only for the batch's own workspace. */
export function imageRoutes({ db, config }: AppDeps) {
  const app = new Hono<AppEnv>();
  app.get("/images/:batchId/:file", async (c) => {
    const batchId = c.req.param("batchId");
    const fileName = c.req.param("file");
    const path = imagePath(config.imagesDir, batchId, fileName);
    const parts = parseImageFileName(fileName);
    const batch = path && await getBatch(db, c.get("workspaceId"), batchId);
    const image = batch && await findImage(db, batchId, fileName);
    if (!path || !image || !parts) return c.text("Not found", 404);
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch {
      return c.text("Not found", 404);
    }
    return new Response(file.readable, {
      headers: {
        // The type of the stored format, never a string from upstream.
        "content-type": mimeTypeOf(parts.extension),
        "content-length": String(image.bytes),
        "cache-control": "private, max-age=31536000, immutable",
        "x-content-type-options": "nosniff",
      },
    });
  });
  return app;
}
