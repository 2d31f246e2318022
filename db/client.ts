/** Opens the libSQL database and applies the committed migrations. */
import { createClient } from "@libsql/client";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { fileURLToPath } from "node:url";
import * as schema from "./schema.ts";

export type Db = LibSQLDatabase<typeof schema>;

const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations", import.meta.url));

/** How a database is opened beyond its URL. */
export interface OpenDbOptions {
  /** A libSQL server's token (`BATCHGEN_DATABASE_AUTH_TOKEN`); unused for files. */
  authToken?: string;
  /** Migrations folder (tests); default: the committed db/migrations. */
  migrationsFolder?: string;
}

/** Whether `url` names a database on this machine (a file or memory). */
export function isLocalDatabaseUrl(url: string): boolean {
  return url.startsWith("file:") || url === ":memory:";
}

/**
 * Opens `url` (file:, libsql://, http(s)://, ws(s)://, :memory:) and
 * migrates it. A libSQL server gets `authToken` as its bearer token.
 *
 * Writes that must be atomic use `db.batch()`, never `db.transaction()`: the
 * local client hands an interactive transaction its own connection, and any
 * other write while it is open fails with SQLITE_BUSY in this one-thread
 * process. A batch runs to its end in one call on the one connection (on a
 * server, in one request).
 */
export async function openDb(
  url: string,
  options: OpenDbOptions = {},
): Promise<{ db: Db; close(): void }> {
  const local = isLocalDatabaseUrl(url);
  const client = createClient({
    url,
    ...(!local && options.authToken ? { authToken: options.authToken } : {}),
  });
  try {
    if (local) {
      await client.execute("PRAGMA foreign_keys = ON");
      await client.execute("PRAGMA busy_timeout = 5000");
      if (url.startsWith("file:")) {
        await client.execute("PRAGMA journal_mode = WAL");
        // Durability trade-off: under WAL, NORMAL fsyncs at checkpoints, not
        // at each commit. A commit is still atomic and the database never
        // corrupts; a power loss or OS crash (not a process crash: SIGKILL
        // loses nothing) may roll back the last commits before it. For a run
        // that is a few event rows, and crash recovery re-adopts every image
        // file on disk, so no paid image is lost. It takes the fsync off each
        // event's commit on the server's one thread (issue 13 part 4).
        await client.execute("PRAGMA synchronous = NORMAL");
      }
    }
    const db = drizzle(client, { schema });
    await migrateShared(db, options.migrationsFolder ?? MIGRATIONS_DIR);
    return { db, close: () => client.close() };
  } catch (error) {
    client.close();
    throw error;
  }
}

/** Tries of a migration that lost a race with another instance's. */
const MIGRATE_TRIES = 8;

/**
 * Applies the pending migrations, safe when several instances start at once
 * on one database. Drizzle's migrator reads which migrations are applied
 * *before* its transaction, then applies the rest in one transaction: two
 * instances starting together both see the same migration pending, one
 * commits it, and the other's transaction fails on its first statement
 * ("table … already exists", or SQLITE_BUSY while the first holds the lock)
 * and rolls back whole. Running the migrator again then reads the new state
 * and finds nothing left to do, so such a loss is retried, never reported.
 */
async function migrateShared(db: Db, migrationsFolder: string): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      await migrate(db, { migrationsFolder });
      return;
    } catch (error) {
      if (attempt >= MIGRATE_TRIES || !lostMigrationRace(error)) throw error;
      // Jittered: two losers must not collide again on the next try.
      const waitMs = 25 * 2 ** attempt * (0.5 + Math.random());
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

/** Whether a migration failed because another instance migrated at once. */
export function lostMigrationRace(error: unknown): boolean {
  const text = [error, (error as { cause?: unknown })?.cause]
    .map((e) =>
      e instanceof Error
        ? `${e.message} ${(e as { code?: string }).code ?? ""}`
        : String(e)
    ).join(" ");
  return /already exists|duplicate column|SQLITE_BUSY|database is locked|UNIQUE constraint failed: __drizzle_migrations/i
    .test(text);
}
