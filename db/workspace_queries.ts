/** The workspaces this server issued, by id (never by token). */
import { eq } from "drizzle-orm";
import type { Db } from "./client.ts";
import { workspaces } from "./schema.ts";

/** Whether this server issued the workspace `id`. */
export async function workspaceExists(db: Db, id: string): Promise<boolean> {
  const row = await db.query.workspaces.findFirst({
    where: eq(workspaces.id, id),
  });
  return row !== undefined;
}

/** Records a newly issued workspace. */
export async function addWorkspace(db: Db, id: string): Promise<void> {
  await db.insert(workspaces).values({ id, createdAt: new Date() })
    .onConflictDoNothing();
}
