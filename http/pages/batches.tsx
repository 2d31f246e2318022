/** A batch's screens: its page, its watched summary, delete and download. */
import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../env.ts";
import { getBatch, listImages, listItems } from "../../db/batch_queries.ts";
import { removeBatch } from "../../engine/batches.ts";
import { runningElsewhere } from "../../engine/leases.ts";
import { batchReferences, zipResponse } from "../../engine/batch_files.ts";
import { Replace } from "../../views/partial.tsx";
import { BatchSummary } from "../../views/components/batch_summary.tsx";
import { BatchPage, batchSectionId } from "../../views/pages/batch_page.tsx";
import { MessagePage } from "../../views/pages/message_page.tsx";
import { page } from "./render.tsx";
import { historyPage } from "./gallery.tsx";

/** Routes for the batch screens. */
export function batchRoutes(deps: AppDeps) {
  const { db, config } = deps;
  const app = new Hono<AppEnv>();

  app.get("/batches/:id", async (c) => {
    const batch = await getBatch(db, c.get("workspaceId"), c.req.param("id"));
    if (!batch) return notFound(c);
    const items = await listItems(db, batch.id);
    return page(
      c,
      batch.title,
      <BatchPage
        batch={batch}
        items={items}
        images={await listImages(db, batch.id)}
        references={await batchReferences(db, batch, items)}
        view={c.req.query("view") === "list" ? "list" : "compare"}
        running={deps.activeRuns.has(batch.id)}
        // Opened (or reloaded) during a run: the stream belongs to another
        // page, so this one keeps its summary fresh on its own.
        watch={deps.activeRuns.has(batch.id)}
      />,
    );
  });

  // A watched summary asks for itself while the run lasts; once it is over,
  // the whole batch section (tiles included) is drawn afresh, once.
  app.get("/batches/:id/summary", async (c) => {
    const batch = await getBatch(db, c.get("workspaceId"), c.req.param("id"));
    if (!batch) return notFound(c);
    if (deps.activeRuns.has(batch.id)) {
      return c.html(<BatchSummary batch={batch} running watch />);
    }
    const items = await listItems(db, batch.id);
    return c.html(
      <Replace id={batchSectionId(batch.id)}>
        <BatchPage
          batch={batch}
          items={items}
          images={await listImages(db, batch.id)}
          references={await batchReferences(db, batch, items)}
          running={false}
        />
      </Replace>,
    );
  });

  app.delete("/batches/:id", async (c) => {
    const batch = await getBatch(db, c.get("workspaceId"), c.req.param("id"));
    if (!batch) return notFound(c);
    if (
      deps.activeRuns.has(batch.id) ||
      await runningElsewhere(db, config, batch.id)
    ) {
      return page(
        c,
        "Still running",
        <MessagePage
          title="Still running"
          message="Cancel the run before deleting the batch."
        />,
        409,
      );
    }
    await removeBatch(db, config.imagesDir, batch);
    // Show History (minus this batch) under History's own address.
    c.header("HX-Push-Url", "/history");
    return await historyPage(c, deps, {
      notice: `“${batch.title}” and its images were deleted.`,
    });
  });

  app.get("/batches/:id/download.zip", async (c) => {
    const batch = await getBatch(db, c.get("workspaceId"), c.req.param("id"));
    if (!batch) return notFound(c);
    return await zipResponse(db, config.imagesDir, batch);
  });

  return app;
}

/** The 404 page, also for another workspace's batch (no existence leak). */
export function notFound(c: Parameters<typeof page>[0]) {
  return page(
    c,
    "Not found",
    <MessagePage
      title="Not found"
      message="There is no such batch in this workspace."
    />,
    404,
  );
}
