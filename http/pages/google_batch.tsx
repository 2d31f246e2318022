/**
 * Batch mode on the page: the batch page's poller asks here, with the key
 * from the field, to check the jobs at Google and save what finished; the
 * answer draws the batch afresh with the next interval (longer while
 * nothing changes). Without a key nothing reaches Google: the poller says
 * to paste it.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { AppDeps, AppEnv } from "../env.ts";
import { getBatch, listImages, listItems } from "../../db/batch_queries.ts";
import { batchJobs } from "../../db/google_job_queries.ts";
import type { Batch } from "../../core/records.ts";
import { DEFAULTS } from "../../core/limits.ts";
import { syncOwned } from "../../engine/batch_sync.ts";
import { batchReferences } from "../../engine/batch_files.ts";
import { Replace } from "../../views/partial.tsx";
import { BatchPage, batchSectionId } from "../../views/pages/batch_page.tsx";
import {
  BatchSummary,
  summaryId,
} from "../../views/components/batch_summary.tsx";
import { syncId, SyncPoller } from "../../views/components/sync_poller.tsx";
import { readKeyField } from "./key_field.ts";

/** The next poll interval: back to the start after a change, else doubled. */
export function nextInterval(every: number, changed: boolean): number {
  const base = DEFAULTS.syncEverySeconds;
  if (changed || !Number.isFinite(every) || every < base) return base;
  return Math.min(every * 2, base * 4);
}

/** Routes of Batch mode on the page. */
export function googleBatchRoutes(deps: AppDeps) {
  const { db } = deps;
  const app = new Hono<AppEnv>();

  /** The batch drawn afresh, with its poller at `every` seconds. */
  async function fresh(batch: Batch, every: number, message?: string) {
    const items = await listItems(db, batch.id);
    return (
      <Replace id={batchSectionId(batch.id)}>
        <BatchPage
          batch={batch}
          items={items}
          images={await listImages(db, batch.id)}
          references={await batchReferences(db, batch, items)}
          running={false}
          syncEvery={every}
          syncMessage={message}
          // An answer to a check: checking again on load would loop.
          syncOnLoad={false}
        />
      </Replace>
    );
  }

  app.post("/batches/:id/sync", async (c) => {
    const batch = await getBatch(db, c.get("workspaceId"), c.req.param("id"));
    if (!batch) return c.body(null, 404);
    const every = Number(c.req.query("every") ?? DEFAULTS.syncEverySeconds);
    const read = await readKeyField(c);
    if (!read.ok) {
      // An empty field is the usual case (after a reload): ask for the key.
      // A key of the wrong shape, or an insecure transport, says why.
      const typed = read.problem.code === "missing_key"
        ? (await c.req.parseBody()).apiKey
        : "-";
      const empty = typeof typed !== "string" || typed.trim() === "";
      const since = await waitingSince(batch);
      return c.html(
        <Replace id={syncId(batch.id)}>
          <SyncPoller
            batchId={batch.id}
            everySeconds={Math.max(every, DEFAULTS.syncEverySeconds)}
            needsKey
            message={empty
              ? `${since} Paste your key in the field above to check on it and collect the images.`
              : read.problem.message}
          />
        </Replace>,
      );
    }
    const before = JSON.stringify(await jobStates(batch));
    const synced = await syncOwned(deps, batch, read.value.key, {
      signal: c.req.raw.signal,
    });
    if (!synced.ok) {
      return c.html(
        <Replace id={syncId(batch.id)}>
          <SyncPoller
            batchId={batch.id}
            everySeconds={DEFAULTS.syncEverySeconds}
            message={synced.problem.message}
          />
        </Replace>,
      );
    }
    const changed = JSON.stringify(await jobStates(batch)) !== before;
    return c.html(
      await fresh(
        synced.value.batch,
        nextInterval(every, changed),
        synced.value.problems[0],
      ),
    );
  });

  /** Cancel at Google (the key from the field), then collect what ended. */
  app.post("/batches/:id/cancel-jobs", (c) => cancelAtGoogle(c));

  async function cancelAtGoogle(c: Context<AppEnv>) {
    const batch = await getBatch(
      db,
      c.get("workspaceId"),
      c.req.param("id") ?? "",
    );
    if (!batch) return c.body(null, 404);
    const read = await readKeyField(c);
    if (!read.ok) {
      return c.html(
        <Replace id={summaryId(batch.id)}>
          <BatchSummary
            batch={{
              ...batch,
              statusMessage:
                `${read.problem.message} Cancelling at Google needs your key.`,
            }}
            running={false}
            inPage
          />
        </Replace>,
      );
    }
    const synced = await syncOwned(deps, batch, read.value.key, {
      signal: c.req.raw.signal,
      cancel: true,
    });
    const now = synced.ok ? synced.value.batch : batch;
    const message = synced.ok
      ? synced.value.problems[0] ??
        "Cancelled at Google; what had finished is kept. Google may take a minute to stop."
      : synced.problem.message;
    // The whole batch: the tiles of what Google cancelled say so too.
    return c.html(
      await fresh(
        { ...now, statusMessage: message },
        DEFAULTS.syncEverySeconds,
      ),
    );
  }

  /** "Waiting at Google since 14:02 UTC." (its oldest open job). */
  async function waitingSince(batch: Batch) {
    const open = (await batchJobs(db, batch.id)).find((j) => !j.collected);
    return open
      ? `Waiting at Google since ${
        open.createdAt.toISOString().slice(11, 16)
      } UTC.`
      : "Waiting at Google.";
  }

  async function jobStates(batch: Batch) {
    return (await batchJobs(db, batch.id)).map((j) => [j.state, j.collected]);
  }

  return app;
}
