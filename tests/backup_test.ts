/**
 * [backup] Backups as the README's Operations section says: copy the
 * database (offline: the file with its -wal/-shm; online: `VACUUM INTO`
 * from a second connection while the server runs), then `images/` and
 * `references/`. A fresh app on the copy serves the batch, its images,
 * its reference image and its ZIP, to the same workspace.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { startTestApp, TEST_KEY, type TestApp } from "./_helpers.ts";
import { expectJson, newWorkspace } from "./_html.ts";
import { encodePng } from "./fake_gemini/png.ts";
import { sha256Hex } from "../lib/storage.ts";

const DB_FILES = ["batchgen.db", "batchgen.db-wal", "batchgen.db-shm"];

/** `cp -a` of a folder (the suite may run only Deno, unzip and openssl). */
async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory) await copyTree(source, target);
    else if (entry.isFile) await Deno.copyFile(source, target);
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

async function unzip(args: string[]): Promise<Uint8Array> {
  const output = await new Deno.Command("unzip", { args, stderr: "piped" })
    .output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  return output.stdout;
}

/** What the original instance served, to compare the restored one with. */
interface Served {
  batchId: string;
  cookie: string;
  record: {
    items: { image: { url: string; sha256: string; file: string } | null }[];
  } & Record<string, unknown>;
  referenceId: string;
  reference: Uint8Array;
}

/** A batch with a reference image, run to its end on the fake. */
async function makeBatch(t: TestApp): Promise<Served> {
  await Deno.mkdir(t.config.imagesDir, { recursive: true });
  await Deno.mkdir(t.config.referencesDir, { recursive: true });
  const cookie = await newWorkspace(t);
  const reference = await encodePng(16, 12, [20, 120, 220]);
  const body = new FormData();
  body.append(
    "file",
    new File([reference as Uint8Array<ArrayBuffer>], "sky.png", {
      type: "image/png",
    }),
  );
  const uploaded = await expectJson(
    await t.request("/api/references", {
      method: "POST",
      headers: { cookie },
      body,
    }),
    201,
  );
  const referenceId = uploaded.references[0].id;
  const created = await expectJson(
    await t.request("/api/batches", {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: JSON.stringify({
        prompts: ["a red fox", "a calm sea", "a shy owl [block:IMAGE_SAFETY]"],
        model: "gemini-nano-banana-2.1",
        imagesPerPrompt: 2,
        references: [referenceId],
        title: "Backed up",
      }),
    }),
    201,
  );
  const run = await t.request(`/api/batches/${created.id}/run`, {
    method: "POST",
    headers: { cookie, "x-goog-api-key": TEST_KEY },
  });
  assert.equal(run.status, 200);
  const events = (await run.text()).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  assert.equal(events.at(-1).type, "batch");
  const record = await expectJson(
    await t.request(`/api/batches/${created.id}`, { headers: { cookie } }),
    200,
  );
  assert.equal(record.status, "partial");
  assert.deepEqual(record.counts, {
    items: 6,
    succeeded: 4,
    failed: 2,
    blocked: 2,
  });
  return { batchId: created.id, cookie, record, referenceId, reference };
}

/** Everything `served` showed, asked again of the app on the restored copy. */
async function assertServes(t: TestApp, served: Served): Promise<void> {
  const { batchId, cookie } = served;
  const ready = await t.request("/readyz");
  assert.equal(ready.status, 200, await ready.clone().text());

  const record = await expectJson(
    await t.request(`/api/batches/${batchId}`, { headers: { cookie } }),
    200,
  );
  assert.deepEqual(record, served.record);
  const list = await expectJson(
    await t.request("/api/batches", { headers: { cookie } }),
    200,
  );
  assert.deepEqual(list.batches.map((b: { id: string }) => b.id), [batchId]);

  const images = new Map<string, Uint8Array>();
  for (const item of record.items) {
    if (!item.image) continue;
    const response = await t.request(item.image.url, { headers: { cookie } });
    assert.equal(response.status, 200, item.image.url);
    const bytes = new Uint8Array(await response.arrayBuffer());
    assert.equal(await sha256Hex(bytes), item.image.sha256);
    images.set(item.image.file, bytes);
  }
  assert.equal(images.size, 4);

  const reference = await t.request(
    `/api/references/${served.referenceId}`,
    { headers: { cookie } },
  );
  assert.equal(reference.status, 200);
  assert.deepEqual(
    new Uint8Array(await reference.arrayBuffer()),
    served.reference,
  );

  const zip = await t.request(`/api/batches/${batchId}/download.zip`, {
    headers: { cookie },
  });
  assert.equal(zip.status, 200);
  assert.equal(zip.headers.get("content-type"), "application/zip");
  const zipPath = join(t.dataDir, "..", `${batchId}.zip`);
  await Deno.writeFile(zipPath, new Uint8Array(await zip.arrayBuffer()));
  try {
    const listing = new TextDecoder().decode(await unzip(["-Z1", zipPath]));
    assert.deepEqual(
      listing.trim().split("\n").sort(),
      ["manifest.json", ...images.keys()].sort(),
    );
    for (const [file, bytes] of images) {
      assert.deepEqual(await unzip(["-p", zipPath, file]), bytes, file);
    }
    const manifest = JSON.parse(
      new TextDecoder().decode(await unzip(["-p", zipPath, "manifest.json"])),
    );
    assert.equal(manifest.batch.id, batchId);
  } finally {
    await Deno.remove(zipPath).catch(() => {});
  }
}

Deno.test("[backup] offline: stop, copy the DB file (+ -wal, -shm), images/ and references/; a fresh app on the copy serves the batch, images, reference and ZIP", async () => {
  const root = await Deno.makeTempDir({ prefix: "batchgen-backup-" });
  try {
    const live = join(root, "data");
    const restored = join(root, "restored");
    await Deno.mkdir(live);
    let served: Served;
    {
      await using t = await startTestApp({ dataDir: live });
      served = await makeBatch(t);
    } // stopped: the DB is closed
    await Deno.mkdir(restored);
    for (const name of DB_FILES) {
      if (await exists(join(live, name))) {
        await Deno.copyFile(join(live, name), join(restored, name));
      }
    }
    await copyTree(join(live, "images"), join(restored, "images"));
    await copyTree(join(live, "references"), join(restored, "references"));
    // The original is gone: only the copy can answer.
    await Deno.remove(live, { recursive: true });

    await using t = await startTestApp({ dataDir: restored });
    await assertServes(t, served);
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});

Deno.test("[backup] online: VACUUM INTO from a second connection while the server runs, then images/ and references/; the restored copy serves the same", async () => {
  const root = await Deno.makeTempDir({ prefix: "batchgen-backup-" });
  try {
    const live = join(root, "data");
    const restored = join(root, "restored");
    await Deno.mkdir(live);
    await Deno.mkdir(restored);
    let served: Served;
    {
      await using t = await startTestApp({ dataDir: live });
      served = await makeBatch(t);
      // As `sqlite3 data/batchgen.db "VACUUM INTO '…'"` would, beside the
      // running server (WAL mode: readers do not block its writes).
      const backup = createClient({ url: `file:${join(live, "batchgen.db")}` });
      try {
        await backup.execute({
          sql: "VACUUM INTO ?",
          args: [join(restored, "batchgen.db")],
        });
      } finally {
        backup.close();
      }
      // The database first, then the files: every image the copy's rows
      // name was on disk before its row was written.
      await copyTree(join(live, "images"), join(restored, "images"));
      await copyTree(join(live, "references"), join(restored, "references"));
      // The live server still answers.
      assert.equal((await t.request("/readyz")).status, 200);
    }
    await Deno.remove(live, { recursive: true });
    assert.ok(!await exists(join(restored, "batchgen.db-wal")));

    await using t = await startTestApp({ dataDir: restored });
    await assertServes(t, served);
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
});
