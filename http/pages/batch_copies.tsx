/**
 * "Re-run with these settings" and "More like this": each makes a new draft
 * batch from a stored one and opens it, ready to Start with the key.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { AppDeps, AppEnv } from "../env.ts";
import { getBatch, listImages, listItems } from "../../db/batch_queries.ts";
import type { Batch } from "../../core/records.ts";
import type { Result } from "../../core/result.ts";
import { moreLikeItem, rerunBatch } from "../../engine/reuse.ts";
import { batchReferences } from "../../engine/batch_files.ts";
import { BatchPage } from "../../views/pages/batch_page.tsx";
import { MessagePage } from "../../views/pages/message_page.tsx";
import { isHtmx, page } from "./render.tsx";
import { notFound } from "./batches.tsx";

/** Routes that make a new batch from an old one. */
export function reuseRoutes(deps: AppDeps) {
  const { db, config } = deps;
  const app = new Hono<AppEnv>();

  /** Opens the new batch (a boosted form swaps it in; else a redirect). */
  async function opened(c: Context<AppEnv>, made: Result<Batch>) {
    if (!made.ok) {
      return page(
        c,
        "Cannot make the batch",
        <MessagePage
          title="Cannot make the batch"
          message={made.problem.message}
        />,
        409,
      );
    }
    const batch = made.value;
    if (!isHtmx(c)) return c.redirect(`/batches/${batch.id}`, 303);
    c.header("HX-Push-Url", `/batches/${batch.id}`);
    const items = await listItems(db, batch.id);
    return page(
      c,
      batch.title,
      <BatchPage
        batch={batch}
        items={items}
        images={await listImages(db, batch.id)}
        references={await batchReferences(db, batch, items)}
        running={false}
      />,
      201,
    );
  }

  app.post("/batches/:id/rerun", async (c) => {
    const source = await getBatch(db, c.get("workspaceId"), c.req.param("id"));
    if (!source) return notFound(c);
    return await opened(c, await rerunBatch(db, source, config.quota));
  });

  app.post("/batches/:id/items/:itemId/more", async (c) => {
    const source = await getBatch(db, c.get("workspaceId"), c.req.param("id"));
    const item = source &&
      (await listItems(db, source.id)).find((i) =>
        i.id === c.req.param("itemId")
      );
    if (!source || !item) return notFound(c);
    const body = await c.req.parseBody();
    const count = Number(body.count ?? 4) || 4;
    return await opened(
      c,
      await moreLikeItem(db, source, item, count, config.quota),
    );
  });

  return app;
}
