/**
 * The gallery (every image of the workspace) and History with thumbnails and
 * rows that keep themselves up to date while their batch runs.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { AppDeps, AppEnv } from "../env.ts";
import { getBatch, listBatches } from "../../db/batch_queries.ts";
import { firstImages, listGalleryImages } from "../../db/gallery_queries.ts";
import { findModel, KNOWN_MODELS } from "../../core/catalog.ts";
import {
  type Batch,
  BATCH_STATUSES,
  type BatchStatus,
} from "../../core/records.ts";
import { cursorProblem } from "../request_input.ts";
import { HistoryRow } from "../../views/components/history_row.tsx";
import { GalleryPage } from "../../views/pages/gallery_page.tsx";
import { HistoryPage } from "../../views/pages/history_page.tsx";
import { MessagePage } from "../../views/pages/message_page.tsx";
import { isHtmx, page } from "./render.tsx";

/** Longest search text kept (as History). */
const MAX_QUERY = 200;

/** Routes of the gallery and of History's pages and live rows. */
export function galleryRoutes(deps: AppDeps) {
  const { db } = deps;
  const app = new Hono<AppEnv>();

  app.get("/gallery", async (c) => {
    const cursor = c.req.query("cursor");
    const query = (c.req.query("q") ?? "").trim().slice(0, MAX_QUERY);
    const asked = c.req.query("model") ?? "";
    const status = c.req.query("status") ?? "";
    const problem = cursorProblem(cursor) ?? modelProblem(asked);
    if (problem) return badLink(c, problem);
    if (!isStatus(status)) return badLink(c, STATUS_PROBLEM);
    // `models/<id>` names the same model, as everywhere else.
    const model = asked && (findModel(asked)?.id ?? "");
    const result = await listGalleryImages(db, c.get("workspaceId"), {
      cursor,
      query,
      model: model || undefined,
      status: status || undefined,
    });
    return page(
      c,
      "Gallery",
      <GalleryPage
        images={result.images}
        nextCursor={result.nextCursor}
        filter={{ query, model, status }}
      />,
    );
  });

  // Served here, before batchRoutes' own GET /history, which it replaces:
  // the page needs the thumbnails and which batches run.
  app.get("/history", async (c) => {
    const cursor = c.req.query("cursor");
    const badCursor = cursorProblem(cursor);
    if (badCursor) return badLink(c, badCursor);
    return await historyPage(c, deps, {
      cursor,
      query: (c.req.query("q") ?? "").trim().slice(0, MAX_QUERY),
    });
  });

  // A running batch's row asks for its fresh self every few seconds.
  app.get("/history/rows/:id", async (c) => {
    c.header("Vary", "HX-Request");
    if (!isHtmx(c)) return c.redirect("/history", 303);
    const batch = await getBatch(db, c.get("workspaceId"), c.req.param("id"));
    // Deleted meanwhile (or never this workspace's): the row goes away.
    if (!batch) return c.html("");
    const thumbnails = await firstImages(db, [batch.id]);
    return c.html(
      <HistoryRow
        batch={batch}
        thumbnail={thumbnails.get(batch.id)}
        live={isRunning(deps, batch)}
      />,
    );
  });

  return app;
}

/** The batch is running now (in this server, or as its record says). */
function isRunning(deps: AppDeps, batch: Batch): boolean {
  return batch.status === "running" || deps.activeRuns.has(batch.id);
}

/**
 * History's first page, or the page a cursor and search select: batches with
 * their thumbnails (one query for the page) and live rows for running ones.
 * (The delete answer of batches.tsx shows History too and could use this.)
 */
export async function historyPage(
  c: Context<AppEnv>,
  deps: AppDeps,
  { cursor, query = "", notice }: {
    cursor?: string;
    query?: string;
    notice?: string;
  } = {},
) {
  const result = await listBatches(deps.db, c.get("workspaceId"), {
    cursor,
    query,
  });
  const ids = result.batches.map((b) => b.id);
  return page(
    c,
    "History",
    <HistoryPage
      batches={result.batches}
      thumbnails={await firstImages(deps.db, ids)}
      live={new Set(
        result.batches.filter((b) => isRunning(deps, b)).map((b) => b.id),
      )}
      nextCursor={result.nextCursor}
      query={query}
      notice={notice}
      workspaceToken={c.get("workspaceToken")}
    />,
  );
}

function modelProblem(model: string): string | undefined {
  if (model === "" || findModel(model)) return undefined;
  return `Unknown model. Choose one of: ${
    KNOWN_MODELS.map((m) => m.id).join(", ")
  }.`;
}

/** A batch status, or "" for any. */
function isStatus(status: string): status is BatchStatus | "" {
  return status === "" ||
    (BATCH_STATUSES as readonly string[]).includes(status);
}

const STATUS_PROBLEM = `Unknown status. Choose one of: ${
  BATCH_STATUSES.join(", ")
}.`;

function badLink(c: Context<AppEnv>, message: string) {
  return page(
    c,
    "Bad link",
    <MessagePage title="Bad link" message={message} />,
    400,
  );
}
