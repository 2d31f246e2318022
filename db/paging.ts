/**
 * Newest-first paging and text search, shared by History and the gallery.
 * A cursor is `<createdAt ms>_<id>` of the last row shown: rows created in
 * the same millisecond are ordered, and paged, by id.
 */
import { and, eq, lt, or, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";

/** The condition for rows after `cursor`, or undefined on the first page. */
export function afterCursor(
  cursor: string | undefined,
  createdAt: SQLiteColumn,
  id: SQLiteColumn,
): SQL | undefined {
  const [time = "", lastId] = (cursor ?? "").split("_");
  const before = time ? Number(time) : NaN;
  if (!Number.isFinite(before)) return undefined;
  const at = new Date(before);
  return lastId
    ? or(lt(createdAt, at), and(eq(createdAt, at), lt(id, lastId)))
    : lt(createdAt, at);
}

/** The cursor after `last`, when more rows than a page came back. */
export function nextCursorAfter(
  last: { createdAt: Date; id: string } | undefined,
  hasMore: boolean,
): string | null {
  return hasMore && last ? `${last.createdAt.getTime()}_${last.id}` : null;
}

/** `column LIKE '%query%'`, with the query's own `%`, `_` and `\` literal. */
export function contains(column: SQLiteColumn, query: string): SQL {
  const pattern = `%${query.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
  return sql`${column} like ${pattern} escape '\\'`;
}
