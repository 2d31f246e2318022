/** Opens the libSQL database and applies the committed migrations. */
import { createClient } from "@libsql/client";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { fileURLToPath as fromFileUrl } from "node:url";
import * as schema from "./schema.ts";

export type Db = LibSQLDatabase<typeof schema>;

const MIGRATIONS_DIR = fromFileUrl(new URL("./migrations", import.meta.url));

/** Opens `url` (file:, libsql://, http(s)://, :memory:) and migrates it. */
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
