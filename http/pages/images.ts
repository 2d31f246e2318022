/**
 * Serves a batch's images with the stored content type; no path traversal.
 * The bytes stream from the image store (the data dir or an S3 bucket), so
 * image URLs stay same-origin whichever it is.
 */
import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../env.ts";
import { findImage, getBatch } from "../../db/batch_queries.ts";
import { imageStoreFor } from "../../lib/image_store.ts";
import {
  isSafeBatchId,
  mimeTypeOf,
  parseImageFileName,
} from "../../core/files.ts";

/** `GET /images/:batchId/:file`, only for the batch's own workspace. */
export function imageRoutes({ db, config }: AppDeps) {
  const store = imageStoreFor(config);
  const app = new Hono<AppEnv>();
  app.get("/images/:batchId/:file", async (c) => {
    const batchId = c.req.param("batchId");
    const fileName = c.req.param("file");
    const parts = isSafeBatchId(batchId)
      ? parseImageFileName(fileName)
      : undefined;
    const batch = parts && await getBatch(db, c.get("workspaceId"), batchId);
    const image = batch && await findImage(db, batchId, fileName);
    if (!parts || !image) return c.text("Not found", 404);
    const file = await store.get(batchId, fileName);
    if (!file) return c.text("Not found", 404);
    return new Response(file.body, {
      headers: {
        // The type of the stored format, never a string from upstream.
        "content-type": mimeTypeOf(parts.extension),
        "content-length": String(file.size ?? image.bytes),
        "cache-control": "private, max-age=31536000, immutable",
        "x-content-type-options": "nosniff",
      },
    });
  });
  return app;
}
