/**
 * [db] Upgrading a database of the first release keeps everything: each
 * item's prompt moves to `prompts` (once per prompt), the workspaces that own
 * batches stay issued, prompt bytes are counted, and each row takes its
 * batch's settings.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { openDb } from "./client.ts";
import { listBatches, listItems } from "./batch_queries.ts";
import { workspaceExists } from "./workspace_queries.ts";
import { prompts } from "./schema.ts";

const MIGRATIONS = fileURLToPath(new URL("./migrations", import.meta.url));

Deno.test("[db] a first-release database upgrades with its prompts and workspaces intact", async () => {
  const dir = await Deno.makeTempDir({ prefix: "batchgen-migrate-" });
  try {
    // The first release's schema: only migration 0000.
    const first = join(dir, "first");
    await Deno.mkdir(join(first, "meta"), { recursive: true });
    await Deno.copyFile(
      join(MIGRATIONS, "0000_init.sql"),
      join(first, "0000_init.sql"),
    );
    const journal = JSON.parse(
      await Deno.readTextFile(join(MIGRATIONS, "meta", "_journal.json")),
    );
    journal.entries = journal.entries.slice(0, 1);
    await Deno.writeTextFile(
      join(first, "meta", "_journal.json"),
      JSON.stringify(journal),
    );
    const url = `file:${join(dir, "batchgen.db")}`;
    const client = createClient({ url });
    await migrate(drizzle(client), { migrationsFolder: first });
    const workspace = "a".repeat(64);
    await client.execute({
      sql:
        `insert into batches (id, workspace_id, created_at, updated_at, title,
        model, settings, status, item_count) values (?, ?, 1, 1, 't', 'm',
        '{"aspectRatio":"16:9","imageSize":"2K"}', 'draft', 4)`,
      args: ["b".repeat(32), workspace],
    });
    for (
      const [id, position, index, prompt] of [
        ["i1", 0, 0, "a fox"],
        ["i2", 0, 1, "a fox"],
        ["i3", 1, 0, "a long whale ü"],
        ["i4", 1, 1, "a long whale ü"],
      ] as const
    ) {
      await client.execute({
        sql:
          `insert into items (id, batch_id, position, image_index, prompt, status)
          values (?, ?, ?, ?, ?, 'pending')`,
        args: [id, "b".repeat(32), position, index, prompt],
      });
    }
    client.close();

    const { db, close } = await openDb(url);
    try {
      const page = await listBatches(db, workspace, { query: "whale" });
      assert.equal(page.batches.length, 1, "prompt search works on prompts");
      assert.equal(page.batches[0]!.promptBytes, 20);
      const items = await listItems(db, "b".repeat(32));
      assert.deepEqual(items.map((i) => i.prompt), [
        "a fox",
        "a fox",
        "a long whale ü",
        "a long whale ü",
      ]);
      // Each row takes its batch's settings (0003).
      assert.deepEqual(
        items.map((i) => [i.model, i.aspectRatio, i.imageSize, i.row]),
        [["m", "16:9", "2K", 1], ["m", "16:9", "2K", 1], [
          "m",
          "16:9",
          "2K",
          2,
        ], ["m", "16:9", "2K", 2]],
      );
      assert.deepEqual(items[0]!.references, []);
      assert.equal(await workspaceExists(db, workspace), true);
      const stored = await db.select().from(prompts);
      assert.equal(stored.length, 2, "each prompt once");
    } finally {
      close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
