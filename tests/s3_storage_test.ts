/**
 * [s3] Images in S3-compatible storage (BATCHGEN_STORAGE_URL=s3://bucket/prefix)
 * against s3rver (npm) started here on 127.0.0.1: a run's images land in the
 * bucket once with their sha256, the image route and the ZIP stream them back
 * byte for byte, deleting the batch removes its objects, and nothing stays in
 * the local images dir. The secret key never reaches a log line.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { AwsClient } from "aws4fetch";
import {
  createBatchViaApi,
  readNdjson,
  startTestApp,
  TEST_KEY,
  type TestApp,
} from "./_helpers.ts";
import { newWorkspace } from "./_html.ts";
import {
  S3_TEST_ACCESS_KEY_ID,
  S3_TEST_SECRET,
  startS3rver,
  type TestS3,
} from "../lib/image_store_test_helpers.ts";
import { moveLocalImages, writeManifest } from "../engine/batch_files.ts";
import { findBatchById, listImages } from "../db/batch_queries.ts";

const PRO = "gemini-3-pro-image";
const PREFIX = "team/images";

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    bytes as Uint8Array<ArrayBuffer>,
  );
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

async function unzip(args: string[]): Promise<Uint8Array> {
  const output = await new Deno.Command("unzip", { args, stderr: "piped" })
    .output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  return output.stdout;
}

/** Reads the bucket directly, as an operator's S3 client would. */
function bucket(s3: Pick<TestS3, "endpoint" | "bucket">) {
  const client = new AwsClient({
    accessKeyId: S3_TEST_ACCESS_KEY_ID,
    secretAccessKey: S3_TEST_SECRET,
    service: "s3",
    region: "us-east-1",
    retries: 0,
  });
  const url = (key = "") => `${s3.endpoint}/${s3.bucket}/${key}`;
  return {
    async create(): Promise<void> {
      const response = await client.fetch(url(), { method: "PUT" });
      assert.equal(response.status, 200);
      await response.body?.cancel();
    },
    async keys(prefix: string): Promise<string[]> {
      const response = await client.fetch(
        `${url()}?prefix=${encodeURIComponent(prefix)}`,
      );
      assert.equal(response.status, 200);
      const xml = await response.text();
      return [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]!)
        .sort();
    },
    async object(key: string) {
      const response = await client.fetch(url(key));
      if (response.status === 404) {
        await response.body?.cancel();
        return undefined;
      }
      assert.equal(response.status, 200, key);
      return {
        bytes: new Uint8Array(await response.arrayBuffer()),
        sha256: response.headers.get("x-amz-meta-sha256"),
        type: response.headers.get("content-type"),
      };
    },
  };
}

async function runToEnd(t: TestApp, id: string, cookie: string) {
  const run = await t.request(`/api/batches/${id}/run`, {
    method: "POST",
    headers: { cookie, "x-goog-api-key": TEST_KEY },
  });
  assert.equal(run.status, 200);
  return await readNdjson(run);
}

async function localEntries(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

function assertNoSecret(t: TestApp) {
  for (const line of [...t.logs, ...t.stderrLines]) {
    assert.ok(!line.includes(S3_TEST_SECRET), `secret in a log line: ${line}`);
  }
}

Deno.test("[s3] a run's images go to the bucket with their sha256; the route and the ZIP stream them back; delete removes them", async () => {
  await using s3 = await startS3rver();
  await using t = await startTestApp({ env: s3.env(PREFIX) });
  assert.equal(t.config.storage.kind, "s3");
  const store = bucket(s3);
  const { id, cookie } = await createBatchViaApi(t, {
    prompts: ["a red fox", "a shy owl [block:IMAGE_SAFETY]", "a calm sea"],
    model: PRO,
    aspectRatio: "3:2",
    imagesPerPrompt: 2,
  });
  const events = await runToEnd(t, id, cookie);
  assert.equal(
    (events.at(-1) as { batch: { status: string } }).batch.status,
    "partial",
  );

  // In the bucket: each image once, under prefix/batch/file, with its sha256.
  const rows = await listImages(t.deps.db, id);
  assert.equal(rows.length, 4);
  assert.deepEqual(
    await store.keys(`${PREFIX}/${id}/`),
    [
      ...rows.map((r) => `${PREFIX}/${id}/${r.fileName}`),
      `${PREFIX}/${id}/manifest.json`,
    ].sort(),
  );
  const originals = new Map<string, Uint8Array>();
  for (const row of rows) {
    const object = await store.object(`${PREFIX}/${id}/${row.fileName}`);
    assert.ok(object, row.fileName);
    assert.equal(object.sha256, row.sha256);
    assert.equal(await sha256(object.bytes), row.sha256);
    assert.equal(object.bytes.length, row.bytes);
    assert.equal(object.type, "image/png");
    originals.set(row.fileName, object.bytes);
  }
  const manifest = JSON.parse(
    new TextDecoder().decode(
      (await store.object(`${PREFIX}/${id}/manifest.json`))!.bytes,
    ),
  );
  assert.equal(manifest.batch.id, id);
  assert.equal(manifest.items.length, 6);

  // Nothing of the batch stays in the local images dir.
  assert.deepEqual(await localEntries(join(t.config.imagesDir, id)), []);

  // The image route (the API's image URLs) streams the bucket's bytes.
  const record = await (await t.request(`/api/batches/${id}`, {
    headers: { cookie },
  })).json();
  const urls = record.items.flatMap((i: { image?: { url: string } }) =>
    i.image ? [i.image.url] : []
  );
  assert.equal(urls.length, 4);
  for (const url of urls) {
    const response = await t.request(url, { headers: { cookie } });
    assert.equal(response.status, 200, url);
    assert.equal(response.headers.get("content-type"), "image/png");
    const bytes = new Uint8Array(await response.arrayBuffer());
    assert.equal(response.headers.get("content-length"), String(bytes.length));
    assert.deepEqual(bytes, originals.get(url.split("/").at(-1)!));
  }
  // Only the batch's own workspace sees it.
  const stranger = await newWorkspace(t);
  const denied = await t.request(urls[0], { headers: { cookie: stranger } });
  assert.equal(denied.status, 404);
  await denied.body?.cancel();

  // The ZIP streams every image from the bucket, byte for byte.
  const zip = await t.request(`/api/batches/${id}/download.zip`, {
    headers: { cookie },
  });
  assert.equal(zip.status, 200);
  assert.equal(zip.headers.get("content-type"), "application/zip");
  const zipPath = join(t.dataDir, "download.zip");
  await Deno.writeFile(zipPath, new Uint8Array(await zip.arrayBuffer()));
  const zipped = JSON.parse(
    new TextDecoder().decode(await unzip(["-p", zipPath, "manifest.json"])),
  );
  const files = zipped.items.filter((i: { file: unknown }) => i.file);
  assert.equal(files.length, 4);
  const byRowSha = new Map(rows.map((r) => [r.sha256, r.fileName]));
  for (const entry of files) {
    const bytes = await unzip(["-p", zipPath, entry.file]);
    assert.equal(await sha256(bytes), entry.sha256, entry.file);
    assert.deepEqual(bytes, originals.get(byRowSha.get(entry.sha256)!));
  }
  await Deno.remove(zipPath);

  // Delete: rows, objects and any local folder go.
  const deleted = await t.request(`/api/batches/${id}`, {
    method: "DELETE",
    headers: { cookie },
  });
  assert.equal(deleted.status, 204);
  await deleted.body?.cancel();
  assert.deepEqual(await store.keys(`${PREFIX}/${id}/`), []);
  assert.deepEqual(await localEntries(join(t.config.imagesDir, id)), []);
  assert.equal(await findBatchById(t.deps.db, id), undefined);
  assertNoSecret(t);
});

Deno.test("[s3] Batch mode: each synced result is stored in the bucket once", async () => {
  await using s3 = await startS3rver();
  await using t = await startTestApp({
    env: s3.env(),
    fake: { batch: { getsPerState: 1 } },
  });
  const store = bucket(s3);
  const cookie = await newWorkspace(t);
  const created = await t.request("/api/batches", {
    method: "POST",
    headers: { "content-type": "application/json", cookie },
    body: JSON.stringify({
      model: "gemini-nano-banana-2.1",
      mode: "batch",
      prompts: ["a lighthouse", "a harbour"],
    }),
  });
  assert.equal(created.status, 201);
  const { id } = await created.json();
  await runToEnd(t, id, cookie); // Submitted: the stream ends there.
  let synced: { jobs: { collected: boolean }[] } | undefined;
  for (let i = 0; i < 6 && !synced?.jobs.every((j) => j.collected); i++) {
    const response = await t.request(`/api/batches/${id}/sync`, {
      method: "POST",
      headers: { cookie, "x-goog-api-key": TEST_KEY },
    });
    assert.equal(response.status, 200);
    synced = await response.json();
  }
  assert.ok(synced?.jobs.every((j) => j.collected));
  const rows = await listImages(t.deps.db, id);
  assert.equal(rows.length, 2);
  assert.deepEqual(
    await store.keys(`${id}/`),
    rows.map((r) => `${id}/${r.fileName}`).sort(),
  );
  for (const row of rows) {
    const object = await store.object(`${id}/${row.fileName}`);
    assert.equal(object?.sha256, row.sha256);
    assert.equal(await sha256(object!.bytes), row.sha256);
  }
  assert.deepEqual(await localEntries(join(t.config.imagesDir, id)), []);
  assertNoSecret(t);
});

Deno.test("[s3] the bucket refusing uploads during a run: images stay local and are served from there, then are uploaded once it accepts them", async () => {
  await using s3 = await startS3rver();
  // A bucket that does not exist yet: every upload is refused (404).
  const later = { endpoint: s3.endpoint, bucket: "batchgen-later" };
  await using t = await startTestApp({ env: s3.env(PREFIX, later.bucket) });
  const { id, cookie } = await createBatchViaApi(t, {
    prompts: ["a pear"],
    model: PRO,
    imagesPerPrompt: 2,
  });
  const events = await runToEnd(t, id, cookie);
  assert.equal(
    (events.at(-1) as { batch: { status: string } }).batch.status,
    "done",
  );
  const dir = join(t.config.imagesDir, id);
  const rows = await listImages(t.deps.db, id);
  assert.equal(rows.length, 2);
  assert.deepEqual(
    (await localEntries(dir)).sort(),
    rows.map((r) => r.fileName).sort(),
  );
  assert.ok(
    t.logs.some((line) =>
      line.includes("image kept locally") && line.includes("NoSuchBucket")
    ),
    "the refused upload is logged",
  );
  assertNoSecret(t);
  // Still served (from the local copy).
  for (const row of rows) {
    const response = await t.request(`/images/${id}/${row.fileName}`, {
      headers: { cookie },
    });
    assert.equal(response.status, 200);
    const bytes = new Uint8Array(await response.arrayBuffer());
    assert.equal(await sha256(bytes), row.sha256);
  }

  // The bucket exists now: the next manifest write (a run's end, or crash
  // recovery) moves the images up and leaves nothing here.
  const store = bucket(later);
  await store.create();
  assert.equal(await moveLocalImages(t.deps.db, t.config.imagesDir, id), 0);
  await writeManifest(
    t.deps.db,
    t.config.imagesDir,
    (await findBatchById(t.deps.db, id))!,
  );
  assert.deepEqual(
    await store.keys(`${PREFIX}/${id}/`),
    [
      ...rows.map((r) => `${PREFIX}/${id}/${r.fileName}`),
      `${PREFIX}/${id}/manifest.json`,
    ].sort(),
  );
  for (const row of rows) {
    const object = await store.object(`${PREFIX}/${id}/${row.fileName}`);
    assert.equal(object?.sha256, row.sha256);
  }
  assert.deepEqual(await localEntries(dir), []);
});
