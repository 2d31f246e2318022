/**
 * Items as core's records: an item row joined with its prompt, which is
 * stored once per prompt (not once per image) in `prompts`.
 */
import { and, eq, getTableColumns } from "drizzle-orm";
import type { Db } from "./client.ts";
import { items, prompts } from "./schema.ts";

/** The columns of an item record: the row's, and its prompt's text. */
const { batchId: _b, position: _p, text: promptText, ...rowColumns } =
  getTableColumns(prompts);
const ITEM_COLUMNS = {
  ...getTableColumns(items),
  prompt: promptText,
  ...rowColumns,
};

/** `select … from items join prompts`: add `where` and `orderBy`. */
export function selectItems(db: Db) {
  return db.select(ITEM_COLUMNS).from(items).innerJoin(
    prompts,
    and(
      eq(prompts.batchId, items.batchId),
      eq(prompts.position, items.position),
    ),
  );
}

/** An item row as an update returns it: the record without its prompt. */
export type ItemRow = typeof items.$inferSelect;
