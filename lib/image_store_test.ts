import assert from "node:assert/strict";
import { join } from "node:path";
import {
  createImageStore,
  type ImageStore,
  imageStoreAt,
  ImageStoreError,
  imageStoreFor,
  LocalImageStore,
  S3ImageStore,
} from "./image_store.ts";
import { sha256Hex } from "./storage.ts";
import {
  S3_TEST_ACCESS_KEY_ID,
  S3_TEST_SECRET,
  startS3rver,
} from "./image_store_test_helpers.ts";
import type { StorageConfig } from "../core/config.ts";

const BATCH = "b0123456789abc";
/** An images dir that does not exist (under the temp folder, which tests may write). */
const missingDir = join(
  Deno.env.get("TMPDIR") ?? "/tmp",
  `batchgen-missing-${crypto.randomUUID()}`,
);
const PNG = Uint8Array.from([
  0x89,
  0x50,
  0x4e,
  0x47,
  0x0d,
  0x0a,
  0x1a,
  0x0a,
  ...crypto.getRandomValues(new Uint8Array(300)),
]);

async function bytesOf(store: ImageStore, batchId: string, name: string) {
  const file = await store.get(batchId, name);
  if (!file) return undefined;
  return new Uint8Array(await new Response(file.body).arrayBuffer());
}

function s3Config(
  endpoint: string,
  bucket: string,
  overrides: Partial<Extract<StorageConfig, { kind: "s3" }>> = {},
): Extract<StorageConfig, { kind: "s3" }> {
  return {
    kind: "s3",
    bucket,
    prefix: "team/images",
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    accessKeyId: S3_TEST_ACCESS_KEY_ID,
    secretAccessKey: S3_TEST_SECRET,
    ...overrides,
  };
}

Deno.test("[image store] local: files under imagesDir/<batch>/, written in place, listed, removed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "batchgen-store-" });
  try {
    const store = new LocalImageStore(dir);
    const sha = await sha256Hex(PNG);
    await store.put(BATCH, "0001-1.png", { bytes: PNG }, sha);
    assert.deepEqual(
      await Deno.readFile(join(dir, BATCH, "0001-1.png")),
      PNG,
    );
    // The generator's own file, already in place: nothing to do.
    await store.put(
      BATCH,
      "0001-1.png",
      { path: join(dir, BATCH, "0001-1.png") },
      sha,
    );
    assert.deepEqual(await bytesOf(store, BATCH, "0001-1.png"), PNG);
    assert.equal((await store.get(BATCH, "0001-1.png"))?.size, PNG.length);
    assert.equal(await store.get(BATCH, "0002-1.png"), undefined);
    assert.equal(await store.get("../etc", "passwd"), undefined);
    assert.deepEqual(await store.list(BATCH), ["0001-1.png"]);
    await assert.rejects(
      store.put(BATCH, "../x.png", { bytes: PNG }, sha),
      ImageStoreError,
    );
    await store.check();
    await store.remove(BATCH);
    await store.remove(BATCH); // Twice is fine.
    assert.deepEqual(await store.list(BATCH), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[image store] imageStoreFor() remembers the store per images dir; imageStoreAt() finds it", () => {
  const imagesDir = `/tmp/batchgen-registry-${crypto.randomUUID()}`;
  assert.ok(imageStoreAt(imagesDir) instanceof LocalImageStore);
  const storage = s3Config("http://127.0.0.1:1", "bucket");
  const store = imageStoreFor({ imagesDir, storage });
  assert.ok(store instanceof S3ImageStore);
  assert.equal(imageStoreAt(imagesDir), store);
  assert.equal(imageStoreFor({ imagesDir, storage: { ...storage } }), store);
  // Settings picked without `storage` get the configured store, not local.
  assert.equal(imageStoreFor({ imagesDir }), store);
  // Another configuration for the same dir replaces it.
  const local = imageStoreFor({ imagesDir, storage: { kind: "local" } });
  assert.ok(local instanceof LocalImageStore);
  assert.equal(imageStoreAt(imagesDir), local);
});

Deno.test("[image store] S3 (s3rver): written once with its sha256, streamed back, listed, removed", async () => {
  await using s3 = await startS3rver();
  const imagesDir = await Deno.makeTempDir({ prefix: "batchgen-stage-" });
  try {
    const store = createImageStore({
      imagesDir,
      storage: s3Config(s3.endpoint, s3.bucket),
    }) as S3ImageStore;
    await store.check();
    const sha = await sha256Hex(PNG);

    // A file the generator wrote here is moved: uploaded, then removed.
    await Deno.mkdir(store.localDir(BATCH), { recursive: true });
    const staged = join(store.localDir(BATCH), "0001-1.png");
    await Deno.writeFile(staged, PNG);
    await store.put(BATCH, "0001-1.png", { path: staged }, sha);
    await assert.rejects(Deno.stat(staged), Deno.errors.NotFound);
    assert.equal(await store.storedSha256(BATCH, "0001-1.png"), sha);
    assert.equal(
      store.key(BATCH, "0001-1.png"),
      `team/images/${BATCH}/0001-1.png`,
    );

    // Streamed back byte for byte, with its size.
    const file = await store.get(BATCH, "0001-1.png");
    assert.equal(file?.size, PNG.length);
    assert.deepEqual(
      new Uint8Array(await new Response(file!.body).arrayBuffer()),
      PNG,
    );
    assert.equal(await store.get(BATCH, "0009-1.png"), undefined);

    // The same bytes again: fine. Bytes that do not match their sha: refused.
    await store.put(BATCH, "0001-1.png", { bytes: PNG }, sha);
    await assert.rejects(
      store.put(BATCH, "0002-1.png", { bytes: PNG }, "0".repeat(64)),
      /do not match the sha256/,
    );
    const manifest = new TextEncoder().encode('{"a":1}');
    await store.put(
      BATCH,
      "manifest.json",
      { bytes: manifest },
      await sha256Hex(manifest),
      { replace: true },
    );
    assert.deepEqual(await store.list(BATCH), ["0001-1.png", "manifest.json"]);

    // Not uploaded yet (a failed upload): served from the local copy.
    await Deno.writeFile(join(store.localDir(BATCH), "0003-1.png"), PNG);
    assert.deepEqual(await bytesOf(store, BATCH, "0003-1.png"), PNG);

    await store.remove(BATCH);
    assert.deepEqual(await store.list(BATCH), []);
    await assert.rejects(
      Deno.stat(store.localDir(BATCH)),
      Deno.errors.NotFound,
    );
  } finally {
    await Deno.remove(imagesDir, { recursive: true });
  }
});

Deno.test("[image store] S3: lists past one page of keys when removing", async () => {
  await using s3 = await startS3rver();
  const store = new S3ImageStore(
    s3Config(s3.endpoint, s3.bucket, { prefix: "" }),
    missingDir,
    { listPageSize: 2 },
  );
  const sha = await sha256Hex(PNG);
  for (let i = 1; i <= 5; i++) {
    await store.put(BATCH, `000${i}-1.png`, { bytes: PNG }, sha);
  }
  await store.put("b9999999999999", "0001-1.png", { bytes: PNG }, sha);
  await store.check(); // One key of many: a truncated page is fine.
  assert.equal((await store.list(BATCH)).length, 5); // Three pages.
  assert.equal(store.key(BATCH, "0001-1.png"), `${BATCH}/0001-1.png`);
  await store.remove(BATCH);
  assert.deepEqual(await store.list(BATCH), []);
  // Another batch's objects are not touched.
  assert.deepEqual(await store.list("b9999999999999"), ["0001-1.png"]);
});

Deno.test("[image store] S3: refusals are readable and never hold the secret", async () => {
  await using s3 = await startS3rver();
  // s3rver checks the access key id (not SigV4 signatures themselves).
  const wrongKey = createImageStore({
    imagesDir: missingDir,
    storage: s3Config(s3.endpoint, s3.bucket, {
      accessKeyId: "AKIAUNKNOWN000000000",
    }),
  });
  const error = await wrongKey.check().then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof ImageStoreError);
  assert.match(error.message, /403 InvalidAccessKeyId/);
  assert.ok(!error.message.includes(S3_TEST_SECRET));

  const noBucket = createImageStore({
    imagesDir: missingDir,
    storage: s3Config(s3.endpoint, "no-such-bucket"),
  });
  await assert.rejects(noBucket.check(), /404 NoSuchBucket/);

  const down = createImageStore({
    imagesDir: missingDir,
    storage: s3Config("http://127.0.0.1:9", s3.bucket),
  });
  const downError = await down.check().then(() => undefined, (e) => e);
  assert.ok(downError instanceof ImageStoreError);
  assert.ok(!String(downError).includes(S3_TEST_SECRET));

  // Nor does the store itself show it when inspected or serialised.
  for (const store of [wrongKey, noBucket, down]) {
    assert.ok(!Deno.inspect(store, { depth: 10 }).includes(S3_TEST_SECRET));
    assert.ok(!JSON.stringify(store).includes(S3_TEST_SECRET));
  }
});

Deno.test("[image store] S3: a name already taken keeps its bytes (412: same sha fine, other refused)", async () => {
  const sha = await sha256Hex(PNG);
  const seen: string[] = [];
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      await request.body?.cancel();
      const url = new URL(request.url);
      seen.push(
        `${request.method} ${url.pathname} ${
          request.headers.get("if-none-match") ?? ""
        }`,
      );
      if (request.method === "PUT") {
        return new Response("<Error><Code>PreconditionFailed</Code></Error>", {
          status: 412,
        });
      }
      return new Response(null, {
        headers: {
          "x-amz-meta-sha256": url.pathname.includes("0001")
            ? sha
            : "f".repeat(64),
        },
      });
    },
  );
  const store = createImageStore({
    imagesDir: missingDir,
    storage: s3Config(`http://127.0.0.1:${server.addr.port}`, "bucket"),
  });
  await store.put(BATCH, "0001-1.png", { bytes: PNG }, sha);
  await assert.rejects(
    store.put(BATCH, "0002-1.png", { bytes: PNG }, sha),
    /a different file is already stored under that name/,
  );
  assert.deepEqual(seen, [
    `PUT /bucket/team/images/${BATCH}/0001-1.png *`,
    `HEAD /bucket/team/images/${BATCH}/0001-1.png `,
    `PUT /bucket/team/images/${BATCH}/0002-1.png *`,
    `HEAD /bucket/team/images/${BATCH}/0002-1.png `,
  ]);
});

Deno.test("[image store] S3: virtual-hosted URLs by default, the AWS endpoint when none is set", async () => {
  const urls: string[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input: RequestInfo | URL) => {
    urls.push(input instanceof Request ? input.url : String(input));
    return Promise.resolve(new Response(null, { status: 200 }));
  };
  try {
    await createImageStore({
      imagesDir: missingDir,
      storage: s3Config("https://minio.example:9000", "pics", {
        forcePathStyle: false,
      }),
    }).put(BATCH, "0001-1.png", { bytes: PNG }, await sha256Hex(PNG));
    await createImageStore({
      imagesDir: missingDir,
      storage: s3Config(undefined as unknown as string, "pics", {
        endpoint: undefined,
        region: "eu-west-3",
        forcePathStyle: false,
        prefix: "",
      }),
    }).check();
  } finally {
    globalThis.fetch = realFetch;
  }
  assert.deepEqual(urls, [
    `https://pics.minio.example:9000/team/images/${BATCH}/0001-1.png`,
    "https://pics.s3.eu-west-3.amazonaws.com/?max-keys=1",
  ]);
});
