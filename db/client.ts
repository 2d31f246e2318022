/** Opens the libSQL database and applies the committed migrations. */
import { createClient } from "@libsql/client";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { fileURLToPath } from "node:url";
import * as schema from "./schema.ts";

export type Db = LibSQLDatabase<typeof schema>;

const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations", import.meta.url));

/**
 * Opens `url` (file:, libsql://, http(s)://, :memory:) and migrates it.
 *
 * Writes that must be atomic use `db.batch()`, never `db.transaction()`: the
 * local client hands an interactive transaction its own connection, and any
 * other write while it is open fails with SQLITE_BUSY in this one-thread
 * process. A batch runs to its end in one call on the one connection.
 */
export async function openDb(url: string): Promise<{ db: Db; close(): void }> {
  const client = createClient({ url });
  if (url.startsWith("file:") || url === ":memory:") {
    await client.execute("PRAGMA foreign_keys = ON");
    await client.execute("PRAGMA busy_timeout = 5000");
    if (url.startsWith("file:")) {
      await client.execute("PRAGMA journal_mode = WAL");
    }
  }
  const db = drizzle(client, { schema });
  await migrate(db, { migrationsFolder: MIGRATIONS_DIR });
  return { db, close: () => client.close() };
}
