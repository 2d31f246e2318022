/**
 * Leak canary (design.md §10; K1, K2, K4, K5, K8): runs every flow with a
 * recognisable key — page and API, success, failing and blocked items, and an
 * invalid key whose Google error echoes it — then searches every response body
 * and header, the server log, the generator's stderr, the generator's argv and
 * every byte under the data dir (DB, WAL, SHM, images, manifests) for the key
 * and each 8-character window of it. Must find nothing.
 */
import assert from "node:assert/strict";
import {
  form,
  startTestApp,
  TEST_KEY,
  TEST_KEY_OLD,
  type TestApp,
} from "./_helpers.ts";
import {
  BAD_KEY,
  dbCells,
  LeakScan,
  readGeneratorProc,
  readTree,
  recordingClient,
} from "./_key_leaks.ts";
import { generatorArgs, type GeneratorRun } from "../engine/runner.ts";

const MODEL = "gemini-nano-banana-2.1";
const PROMPTS = [
  "a canary in a coal mine",
  "a fox in the snow [block:IMAGE_SAFETY]",
  "a broken lamp [status:500]",
  "a garbled scroll [malformed]",
  "a flaky bridge [fail-once:503]",
];
const HTMX = { "HX-Request": "true", "HX-Target": "main#main" };

type Client = ReturnType<typeof recordingClient>;

/** Records each generator's argv as the kernel shows it, while it runs. */
function watchGeneratorArgv(t: TestApp, scan: LeakScan): Promise<void>[] {
  const reads: Promise<void>[] = [];
  const spawn = t.deps.spawn;
  t.deps.spawn = (job, options) => {
    const run: GeneratorRun = spawn(job, options);
    const args = generatorArgs(options.apiBaseUrl, job.outputDir);
    scan.add(`generator args (${job.batchId})`, args.join(" "));
    scan.add(`generator job on stdin (${job.batchId})`, JSON.stringify(job));
    reads.push(
      readGeneratorProc(run.pid).then((proc) => {
        if (proc) {
          scan.add(`generator argv (pid ${run.pid})`, proc.cmdlineBytes);
        } else scan.add(`generator argv (pid ${run.pid})`, "(exited first)");
      }),
    );
    return run;
  };
  return reads;
}

/** The page flow: validate, create (form and htmx), run over SSE, browse. */
async function pageFlow(c: Client, key: string): Promise<string[]> {
  const home = await c.send("/");
  assert.equal(home.status, 200);
  const valid = await c.send("/keys/validate", {
    method: "POST",
    body: form({ apiKey: key, model: MODEL }),
  });
  assert.equal(valid.status, 200, valid.text);
  assert.match(valid.text, /Key works/);
  await c.send("/batches/estimate", {
    method: "POST",
    headers: HTMX,
    body: form({ prompts: PROMPTS.join("\n"), model: MODEL }),
  });

  // A careless form that also posts the key field must not keep it either.
  const created = await c.send("/batches", {
    method: "POST",
    body: form({ prompts: PROMPTS.join("\n"), model: MODEL, apiKey: key }),
  });
  assert.equal(created.status, 303, created.text);
  const pageId = created.headers.get("location")!.split("/").pop()!;
  await c.send(`/batches/${pageId}`);
  const sse = await c.send(`/batches/${pageId}/run?mode=resume`, {
    method: "POST",
    headers: { "HX-Request": "true" },
    body: form({ apiKey: key }),
  });
  assert.equal(sse.status, 200, sse.text);
  assert.match(sse.headers.get("content-type") ?? "", /text\/event-stream/);
  assert.match(sse.text, /run-finished/);
  const retry = await c.send(`/batches/${pageId}/run?mode=retry`, {
    method: "POST",
    headers: { "HX-Request": "true" },
    body: form({ apiKey: key }),
  });
  assert.equal(retry.status, 200, retry.text);

  const boosted = await c.send("/batches", {
    method: "POST",
    headers: HTMX,
    // The page's Generate sends the key field too: it is checked, not kept.
    body: form({ prompts: "a second canary", model: MODEL, apiKey: key }),
  });
  assert.equal(boosted.status, 201, boosted.text);
  const boostedId = boosted.headers.get("hx-push-url")!.split("/").pop()!;
  const run2 = await c.send(`/batches/${boostedId}/run?mode=resume`, {
    method: "POST",
    headers: { "HX-Request": "true" },
    body: form({ apiKey: key }),
  });
  assert.match(run2.text, /run-finished/);
  for (const id of [pageId, boostedId]) {
    await c.send(`/batches/${id}`);
    await c.send(`/batches/${id}`, { headers: HTMX });
    await c.send(`/batches/${id}/download.zip`);
    await c.send(`/batches/${id}/runner?mode=resume`);
  }
  await c.send("/history");
  await c.send("/history", { headers: HTMX });
  await c.send(`/?from=${pageId}`);
  return [pageId, boostedId];
}

/** The JSON API flow: validate, create, run NDJSON, get, manifest, ZIP, list. */
async function apiFlow(c: Client, key: string): Promise<string> {
  const valid = await c.send("/api/keys/validate", {
    method: "POST",
    headers: { "x-goog-api-key": key },
  });
  assert.equal(valid.status, 200, valid.text);
  const created = await c.send("/api/batches", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompts: PROMPTS, model: MODEL }),
  });
  assert.equal(created.status, 201, created.text);
  const { id } = JSON.parse(created.text);
  const run = await c.send(`/api/batches/${id}/run`, {
    method: "POST",
    headers: { "x-goog-api-key": key },
  });
  assert.equal(run.status, 200, run.text);
  assert.match(run.text, /"type":"batch"/);
  const record = JSON.parse((await c.send(`/api/batches/${id}`)).text);
  const statuses = record.items.map((i: { status: string }) => i.status);
  assert.ok(statuses.includes("succeeded"), statuses.join());
  assert.ok(statuses.includes("blocked"), statuses.join());
  assert.ok(statuses.includes("failed"), statuses.join());
  for (const item of record.items) {
    if (item.image) await c.send(item.image.url);
  }
  await c.send(`/api/batches/${id}/manifest.json`);
  await c.send(`/api/batches/${id}/download.zip`);
  await c.send("/api/batches");
  return id;
}

/** An invalid key Google echoes back, on every path that can carry it. */
async function invalidKeyFlow(c: Client): Promise<void> {
  const page = await c.send("/keys/validate", {
    method: "POST",
    body: form({ apiKey: BAD_KEY }),
  });
  assert.equal(page.status, 422, page.text);
  assert.match(page.text, /API key not valid/);
  const api = await c.send("/api/keys/validate", {
    method: "POST",
    headers: { "x-goog-api-key": BAD_KEY },
  });
  assert.equal(api.status, 422, api.text);
  assert.match(api.text, /API key not valid/);

  const created = await c.send("/api/batches", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompts: ["a bad key run", "again"], model: MODEL }),
  });
  const { id } = JSON.parse(created.text);
  const sse = await c.send(`/batches/${id}/run`, {
    method: "POST",
    headers: { "HX-Request": "true" },
    body: form({ apiKey: BAD_KEY }),
  });
  assert.match(sse.text, /API key not valid/);
  const ndjson = await c.send(`/api/batches/${id}/run?mode=retry`, {
    method: "POST",
    headers: { "x-goog-api-key": BAD_KEY },
  });
  assert.match(ndjson.text, /API key not valid/);
  await c.send(`/api/batches/${id}`);
  await c.send(`/batches/${id}`);
  await c.send(`/api/batches/${id}/manifest.json`);
  await c.send(`/api/batches/${id}/download.zip`);
}

async function canary(key: string) {
  await using t = await startTestApp({ env: { BATCHGEN_MAX_ATTEMPTS: "2" } });
  const scan = new LeakScan();
  const argvReads = watchGeneratorArgv(t, scan);
  const client = recordingClient(t, scan);
  const ids = await pageFlow(client, key);
  ids.push(await apiFlow(client, key));
  await invalidKeyFlow(client);
  await Promise.all(argvReads);
  assert.ok(argvReads.length >= 5, `only ${argvReads.length} generator runs`);
  assert.equal(t.deps.activeRuns.size, 0);

  t.logs.forEach((line, i) => scan.add(`server log line ${i}`, line));
  t.stderrLines.forEach((line, i) => scan.add(`generator stderr ${i}`, line));
  const files = await readTree(t.dataDir);
  const names = files.map(([path]) => path.slice(t.dataDir.length));
  for (const needed of ["/batchgen.db", "/batchgen.db-wal", "manifest.json"]) {
    assert.ok(names.some((n) => n.endsWith(needed)), `no ${needed}: ${names}`);
  }
  assert.ok(names.some((n) => n.endsWith(".png")), `no image: ${names}`);
  for (const [path, bytes] of files) scan.add(`data file ${path}`, bytes);
  for (const [cell, value] of await dbCells(t)) scan.add(`DB ${cell}`, value);
  assert.ok(scan.places.length > 100, `only ${scan.places.length} places`);
  scan.assertClean([key, BAD_KEY]);

  // K8: the key reached Google only in the x-goog-api-key header.
  const used = t.fake.requests.filter((r) =>
    [key, BAD_KEY].includes(r.headers["x-goog-api-key"] ?? "")
  );
  assert.ok(used.length > 10, `only ${used.length} requests carried a key`);
  assert.equal(used.length, t.fake.requests.length, "a request had no key");
  for (const r of t.fake.requests) {
    const url = `${r.path}?${new URLSearchParams(r.query)}`;
    for (const k of [key, BAD_KEY]) {
      assert.ok(!url.includes(k), `key in a Google URL: ${r.method} ${url}`);
    }
    assert.equal(r.query.key, undefined, `?key= sent: ${r.path}`);
  }
}

Deno.test({
  name:
    "K1 K2 K5 leak canary (AQ. key, 53 chars): no trace in responses, logs, stderr, argv, DB, WAL or files",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => canary(TEST_KEY),
});

Deno.test({
  name:
    "K1 K2 K5 leak canary (AIza key, 39 chars): no trace in responses, logs, stderr, argv, DB, WAL or files",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => canary(TEST_KEY_OLD),
});
