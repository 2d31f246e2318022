/**
 * Items as core's records: an item row joined with its prompt, which is
 * stored once per prompt (not once per image) in `prompts`.
 */
import { and, eq, getTableColumns } from "drizzle-orm";
import type { Db } from "./client.ts";
import { items, prompts } from "./schema.ts";
import type { Item } from "../core/records.ts";

/** The columns of an item record: the row's, and its prompt's text. */
const ITEM_COLUMNS = { ...getTableColumns(items), prompt: prompts.text };

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

/** An item row (as an update returns it) with its prompt. */
export async function withPrompt(
  db: Db,
  row: typeof items.$inferSelect | undefined,
): Promise<Item | undefined> {
  if (!row) return undefined;
  const prompt = await db.query.prompts.findFirst({
    where: and(
      eq(prompts.batchId, row.batchId),
      eq(prompts.position, row.position),
    ),
  });
  return { ...row, prompt: prompt?.text ?? "" };
}
