/**
 * New batches from old ones, keeping everything each row ran with: "Re-run
 * with these settings" copies every row (per-row settings, template and the
 * values it took, matrix cell, references); "More like this" makes N more
 * images of one item's row.
 */
import type { Db } from "../db/client.ts";
import { listItems } from "../db/batch_queries.ts";
import type { Batch, Item } from "../core/records.ts";
import type { BatchPlan, PlannedRow } from "../core/batch_plan.ts";
import { estimateRows } from "../core/cost.ts";
import { LIMITS } from "../core/limits.ts";
import type { Quota } from "../core/quota.ts";
import type { Result } from "../core/result.ts";
import { storeNewBatch } from "./batches.ts";

/** The rows of a batch as it was planned: one per position, with its count. */
function rowsOf(items: readonly Item[]): PlannedRow[] {
  const rows = new Map<number, PlannedRow>();
  for (const item of items) {
    const row = rows.get(item.position);
    if (row) {
      row.images++;
      continue;
    }
    rows.set(item.position, rowOf(item, 1));
  }
  return [...rows.entries()].sort(([a], [b]) => a - b).map(([, row]) => row);
}

function rowOf(item: Item, images: number): PlannedRow {
  return {
    prompt: item.prompt,
    model: item.model,
    aspectRatio: item.aspectRatio,
    imageSize: item.imageSize,
    images,
    name: item.name,
    row: item.row,
    template: item.template,
    choices: item.choices,
    axis: item.axis,
    references: [...item.references],
  };
}

function planOf(
  source: Batch,
  title: string,
  rows: PlannedRow[],
): BatchPlan {
  return {
    title: title.slice(0, LIMITS.titleChars),
    model: source.model,
    settings: source.settings,
    rows,
    // Already stored for this workspace: nothing new to record.
    references: [],
    budgetUsd: source.budgetUsd,
    mode: source.mode,
    estimate: estimateRows(rows.map((r) => ({
      model: r.model,
      imageSize: r.imageSize,
      promptChars: r.prompt.length,
      images: r.images,
      inputImages: r.references.length,
    }))),
  };
}

/** A new draft batch with every row of `source`, as it ran. */
export async function rerunBatch(
  db: Db,
  source: Batch,
  quota?: Quota,
): Promise<Result<Batch>> {
  const rows = rowsOf(await listItems(db, source.id));
  return await storeNewBatch(
    db,
    source.workspaceId,
    planOf(source, source.title, rows),
    quota,
  );
}

/** A new draft batch of `count` more images of one item's row. */
export async function moreLikeItem(
  db: Db,
  source: Batch,
  item: Item,
  count: number,
  quota?: Quota,
): Promise<Result<Batch>> {
  const images = Math.min(
    Math.max(Math.floor(count), 1),
    LIMITS.imagesPerPrompt,
  );
  const short = item.prompt.length > 60
    ? `${item.prompt.slice(0, 57)}…`
    : item.prompt;
  return await storeNewBatch(
    db,
    source.workspaceId,
    planOf(source, `More like: ${short}`, [rowOf(item, images)]),
    quota,
  );
}
