/**
 * The cost of images adopted from their files (recovery, or a run's end):
 * their `usage` events never reached a server, and the generator's journal
 * in the batch's folder has them (core/files.ts `USAGE_JOURNAL_NAME`). Only
 * items adopted in this pass are recorded, from the last usage line of each
 * (the attempt that saved the image): every other line was recorded from its
 * event. The journal is removed once read.
 */
import { join } from "node:path";
import type { Db } from "../db/client.ts";
import {
  addToBatchQuery,
  itemsWithStatus,
  recordUsageQuery,
} from "../db/run_queries.ts";
import { costFromUsage } from "../core/cost.ts";
import { USAGE_JOURNAL_NAME } from "../core/files.ts";
import { decodeEvent, type GeneratorEvent } from "../core/protocol.ts";

type UsageEvent = Extract<GeneratorEvent, { type: "usage" }>;

/** Records the journaled usage of `adopted` items; returns how many. */
export async function recordJournaledUsage(
  db: Db,
  dir: string,
  batchId: string,
  adopted: ReadonlySet<string>,
): Promise<number> {
  const path = join(dir, USAGE_JOURNAL_NAME);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
  const last = new Map<string, UsageEvent>();
  for (const line of text.split("\n")) {
    const usage = usageOf(line);
    if (usage && adopted.has(usage.itemId)) last.set(usage.itemId, usage);
  }
  let recorded = 0;
  if (last.size > 0) {
    const models = new Map(
      (await itemsWithStatus(db, batchId, ["succeeded"])).map((
        item,
      ) => [item.id, item.model]),
    );
    for (const [itemId, usage] of last) {
      const model = models.get(itemId);
      if (!model) continue;
      const costUsd = costFromUsage(model, usage);
      await db.batch([
        recordUsageQuery(db, batchId, itemId, usage, costUsd),
        addToBatchQuery(db, batchId, { costUsd: costUsd ?? 0 }),
      ]);
      recorded++;
    }
  }
  await Deno.remove(path).catch(() => {});
  return recorded;
}

function usageOf(line: string): UsageEvent | undefined {
  if (!line.trim()) return undefined;
  try {
    const event = decodeEvent(line);
    return event.type === "usage" ? event : undefined;
  } catch {
    return undefined; // A line cut short by a kill.
  }
}
