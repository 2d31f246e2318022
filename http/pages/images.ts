/** Serves a batch's images with the stored content type; no path traversal. */
import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../env.ts";
import { findImage, getBatch } from "../../db/batch_queries.ts";
import { imagePath } from "../../engine/batch_files.ts";

/** `GET /images/:batchId/:file`, only for the batch's own workspace. */
export function imageRoutes({ db, config }: AppDeps) {
  const app = new Hono<AppEnv>();
  app.get("/images/:batchId/:file", async (c) => {
    const batchId = c.req.param("batchId");
    const fileName = c.req.param("file");
    const path = imagePath(config.imagesDir, batchId, fileName);
    const batch = path && await getBatch(db, c.get("workspaceId"), batchId);
    const image = batch && await findImage(db, batchId, fileName);
    if (!path || !image) return c.text("Not found", 404);
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch {
      return c.text("Not found", 404);
    }
    return new Response(file.readable, {
      headers: {
        "content-type": image.mimeType,
        "content-length": String(image.bytes),
        "cache-control": "private, max-age=31536000, immutable",
        "x-content-type-options": "nosniff",
      },
    });
  });
  return app;
}
