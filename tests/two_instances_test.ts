/**
 * [instances] Two BatchGen instances on one database (and one data dir, or
 * one s3rver bucket for the images), with
 * different instance ids and a 2 s lease: a batch created on A is listed,
 * served and downloaded on B; B starting while A runs leaves A's run alone
 * and refuses to run the batch itself; when A dies mid-run (its database
 * connection and generator gone, its lease never released, as a crash would
 * leave it) B marks the batch interrupted only once A's lease has lapsed;
 * Resume on B finishes it with each image made once.
 *
 * The lease-expiry path is the one instances on different machines rely on;
 * instances sharing a data dir also see a dead process through its lock file
 * (tests/leases_test.ts), which is why A here holds none.
 */
import assert from "node:assert/strict";
import { createApp } from "../app.ts";
import type { AppDeps } from "../http/env.ts";
import { loadConfig } from "../config.ts";
import { openDb } from "../db/client.ts";
import { findLease } from "../db/lease_queries.ts";
import { listImages } from "../db/batch_queries.ts";
import { spawnGenerator } from "../engine/runner.ts";
import { ActiveRuns } from "../engine/active_runs.ts";
import { createQuotaPacers } from "../engine/quota_pacer.ts";
import { SpawnGate } from "../engine/spawn_gate.ts";
import { checkKey } from "../engine/key_check.ts";
import { startLeaseKeeper } from "../engine/lease_keeper.ts";
import { recoverAfterCrash } from "../engine/recovery.ts";
import { createLogger } from "../lib/log.ts";
import { type FakeGemini, startFakeGemini } from "./fake_gemini.ts";
import { ORIGIN, TEST_KEY, type TestApp } from "./_helpers.ts";
import { imageStoreAt } from "../lib/image_store.ts";
import { MANIFEST_NAME } from "../core/files.ts";
import { startS3rver } from "../lib/image_store_test_helpers.ts";
import {
  createBatch,
  generatorPid,
  getBatchRecord,
  readUntil,
  requestsFor,
  type RunEvent,
  runToEnd,
  startRun,
  tempFiles,
} from "./_engine.ts";

const LEASE_MS = 2000;

/** One instance (app, DB connection, runs) on a shared data dir. */
async function startInstance(
  instanceId: string,
  dataDir: string,
  fake: FakeGemini,
  database: Record<string, string>,
): Promise<TestApp & { closeDb(): void }> {
  const config = {
    ...loadConfig({
      ...database,
      BATCHGEN_DATA_DIR: dataDir,
      BATCHGEN_GEMINI_BASE_URL: fake.url,
      BATCHGEN_REQUEST_TIMEOUT_MS: "10000",
      BATCHGEN_INSTANCE_ID: instanceId,
      PATH: Deno.env.get("PATH"),
      HOME: Deno.env.get("HOME"),
      DENO_DIR: Deno.env.get("DENO_DIR"),
    }),
    // Below BATCHGEN_LEASE_SECONDS' minimum, to keep the test short.
    leaseMs: LEASE_MS,
  };
  const { db, close } = await openDb(config.databaseUrl, {
    authToken: config.databaseAuthToken,
  });
  let open = true;
  const closeDb = () => {
    if (open) close();
    open = false;
  };
  const logs: string[] = [];
  const deps: AppDeps = {
    db,
    config,
    log: createLogger((line) => logs.push(line)),
    activeRuns: new ActiveRuns({ maxTotal: config.maxRunning }),
    pacers: createQuotaPacers(),
    spawnGate: new SpawnGate(),
    spawn: spawnGenerator,
    checkKey,
  };
  const app = createApp(deps);
  return {
    app,
    deps,
    config,
    fake,
    dataDir,
    logs,
    stderrLines: [],
    closeDb,
    request(path, init = {}) {
      const { remote = "127.0.0.1", ...rest } = init;
      const headers = new Headers(rest.headers);
      if (!headers.has("origin")) headers.set("origin", ORIGIN);
      return Promise.resolve(
        app.request(new URL(path, ORIGIN).href, { ...rest, headers }, {
          remoteAddr: { hostname: remote },
        }),
      );
    },
    async [Symbol.asyncDispose]() {
      deps.activeRuns.abortAll();
      // Let the runs' last writes land before the connection goes.
      for (let i = 0; i < 100 && deps.activeRuns.size > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      closeDb();
    },
  };
}

/** Entries of a ZIP, from its end-of-central-directory record. */
function zipEntries(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = bytes.length - 22; at >= 0; at--) {
    if (view.getUint32(at, true) === 0x06054b50) {
      return view.getUint16(at + 10, true);
    }
  }
  throw new Error("not a ZIP");
}

/**
 * A libSQL server to run the test against as well (sqld, Turso):
 * BATCHGEN_TEST_LIBSQL_URL and, if it needs one, BATCHGEN_TEST_LIBSQL_TOKEN.
 * No libSQL server installs here (npm has none; see docs/scaling.md), so
 * without them that variant is reported as ignored, with the reason.
 */
const LIBSQL_URL = Deno.env.get("BATCHGEN_TEST_LIBSQL_URL");
const LIBSQL_TOKEN = Deno.env.get("BATCHGEN_TEST_LIBSQL_TOKEN");

const NAME =
  "two instances on one database: listed and served on both, a dead instance's run recovered only after its lease lapses, resumed on the other once";

Deno.test(`[instances] ${NAME} (file: database)`, async () => {
  await twoInstances({});
});

Deno.test(`[instances] ${NAME} (file: database, one s3rver bucket)`, async () => {
  await using s3 = await startS3rver();
  await twoInstances(s3.env("two-instances"));
  // Nothing of the batch stays on local disk: the bucket holds it.
});

Deno.test({
  name: `[instances] ${NAME} (libSQL server)` +
    (LIBSQL_URL
      ? ""
      : " (ignored: set BATCHGEN_TEST_LIBSQL_URL to a libSQL server, e.g. sqld)"),
  ignore: !LIBSQL_URL,
  async fn() {
    await twoInstances({
      BATCHGEN_DATABASE_URL: LIBSQL_URL!,
      ...(LIBSQL_TOKEN ? { BATCHGEN_DATABASE_AUTH_TOKEN: LIBSQL_TOKEN } : {}),
    });
  },
});

async function twoInstances(database: Record<string, string>) {
  await using fake = startFakeGemini({ latencyMs: 400 });
  const dataDir = await Deno.makeTempDir({ prefix: "batchgen-two-" });
  const count = 24;
  try {
    await using a = await startInstance("A", dataDir, fake, database);
    const batch = await createBatch(
      a,
      Array.from({ length: count }, (_, i) => `two instances #${i}#`),
      { concurrency: 2 },
    );
    const reader = (await startRun(a, batch)).body!
      .pipeThrough(new TextDecoderStream()).getReader();
    const seen: RunEvent[] = [];
    const buffer = { text: "" };
    const saved = () => seen.filter((e) => e.type === "image-saved").length;
    await readUntil(reader, seen, () => saved() >= 3, buffer);

    // B starts while A runs: same start sequence as `batchgen serve`.
    await using b = await startInstance("B", dataDir, fake, database);
    const keeper = await startLeaseKeeper({
      db: b.deps.db,
      config: b.config,
      log: b.deps.log,
      activeRuns: b.deps.activeRuns,
    });
    try {
      const atStart = await recoverAfterCrash(
        b.deps.db,
        b.config.imagesDir,
        b.config,
      );
      assert.deepEqual(atStart, { batches: 0, files: 0 }, "A's run left alone");

      // Listed and served on B.
      const listed = await (await b.request("/api/batches", {
        headers: { cookie: batch.cookie },
      })).json();
      assert.ok(listed.batches.some((x: { id: string }) => x.id === batch.id));
      const onB = await getBatchRecord(b, batch);
      assert.equal(onB.status, "running");
      const first = onB.items.find((i) => i.image)!;
      const image = await b.request(
        `/images/${batch.id}/${first.image!.file}`,
        {
          headers: { cookie: batch.cookie },
        },
      );
      assert.equal(image.status, 200);
      assert.equal(image.headers.get("content-type"), "image/png");
      await image.body?.cancel();

      // B refuses to run what A runs.
      const refused = await b.request(`/api/batches/${batch.id}/run`, {
        method: "POST",
        headers: { "x-goog-api-key": TEST_KEY, cookie: batch.cookie },
      });
      assert.equal(refused.status, 409);
      const problem = await refused.json();
      assert.equal(problem.error.code, "already_running");
      assert.match(problem.error.message, /another instance/);

      // A live run outlasts its lease: A's heartbeat renews it, B's keeper
      // (checking every leaseMs / 3) leaves it alone.
      const aliveUntil = Date.now() + LEASE_MS * 1.3;
      while (Date.now() < aliveUntil) {
        await readUntil(reader, seen, () => true, buffer);
      }
      assert.equal((await getBatchRecord(b, batch)).status, "running");
      assert.ok(a.deps.activeRuns.has(batch.id), "A's run still going");
      const beforeCrash = saved();
      assert.ok(beforeCrash < count, "the run is mid-way");

      // A dies: no more database writes, its generator killed, the lease
      // neither renewed nor released.
      const pid = generatorPid(a, batch.id);
      a.closeDb();
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // A already stopped it on its first failed write.
      }
      const killedAt = Date.now();
      const lease = await findLease(b.deps.db, batch.id);
      assert.equal(lease?.owner, "A");
      const lapsesAt = killedAt + lease.remainingMs;

      // Not before the lease lapses…
      let recoveredAt = 0;
      let runningSeen = 0;
      while (Date.now() < lapsesAt + 5 * LEASE_MS) {
        const status = (await getBatchRecord(b, batch)).status;
        if (status !== "running") {
          recoveredAt = Date.now();
          break;
        }
        runningSeen++;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(recoveredAt > 0, "B recovered the batch");
      assert.ok(
        recoveredAt >= lapsesAt - 20,
        `recovered ${lapsesAt - recoveredAt} ms before A's lease lapsed`,
      );
      assert.ok(runningSeen >= 5, "B saw it running until then");
      // …and soon after (the keeper checks every leaseMs / 3).
      assert.ok(recoveredAt - lapsesAt < LEASE_MS, "recovered promptly");

      const interrupted = await getBatchRecord(b, batch);
      assert.equal(interrupted.status, "interrupted");
      assert.match(interrupted.statusMessage ?? "", /Resume/);
      // The recovery's own lease goes once its manifest is written.
      for (let i = 0; i < 100 && await findLease(b.deps.db, batch.id); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(await findLease(b.deps.db, batch.id), undefined);
      await reader.cancel().catch(() => {});
      const succeededBefore = interrupted.items.filter((i) =>
        i.status === "succeeded"
      );
      assert.ok(succeededBefore.length >= beforeCrash);

      // Resume on B: each remaining image once, none of the saved again.
      const askedBefore = succeededBefore.map((item) =>
        requestsFor(fake, `#${item.position}#`).length
      );
      const resumed = await runToEnd(b, batch, { mode: "resume" });
      assert.equal(resumed.batch.status, "done");
      assert.equal(resumed.batch.counts.succeeded, count);
      succeededBefore.forEach((item, i) =>
        assert.equal(
          requestsFor(fake, `#${item.position}#`).length,
          askedBefore[i],
          `${item.prompt}: saved before the crash, not asked for again`,
        )
      );

      // One row and one file per item.
      const rows = await listImages(b.deps.db, batch.id);
      assert.equal(rows.length, count, "one image row per item");
      assert.equal(new Set(rows.map((r) => r.itemId)).size, count);
      // Stored once each, wherever the images live (data dir or bucket).
      const store = imageStoreAt(b.config.imagesDir);
      const files = (await store.list(batch.id)).filter((name) =>
        name !== MANIFEST_NAME
      ).sort();
      assert.deepEqual(files, rows.map((r) => r.fileName).sort());
      assert.deepEqual(tempFiles(b, batch.id), [], "no temp files left");

      // Downloaded on B: every image and the manifest.
      const zip = await b.request(`/api/batches/${batch.id}/download.zip`, {
        headers: { cookie: batch.cookie },
      });
      assert.equal(zip.status, 200);
      assert.equal(
        zipEntries(new Uint8Array(await zip.arrayBuffer())),
        count + 1,
      );
      const stored = await store.get(batch.id, MANIFEST_NAME);
      assert.ok(stored, "the manifest is stored");
      const manifest = JSON.parse(await new Response(stored.body).text());
      assert.equal(
        manifest.items.filter((i: { file: string | null }) => i.file).length,
        count,
      );
    } finally {
      await keeper.stop();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}
