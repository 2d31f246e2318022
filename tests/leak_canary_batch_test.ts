/**
 * Leak canary for Batch mode (K1, K2, K5, K8; the sibling of
 * leak_canary_test.ts): submits batches with reference images to Google's
 * Batch API (the fake) through the JSON API and the page — inline and as an
 * uploaded JSONL file, with blocked and failing rows — then syncs them
 * (API, page poller, with and without the key), cancels one at Google,
 * retries failed rows as a new job and now, and uses an invalid key Google
 * echoes on submit, sync and cancel. Then it searches every response, the
 * server log, the generator's stderr, every byte under the data dir (DB,
 * WAL, images, manifests), every file uploaded to Google (the references
 * and the JSONL input, downloaded back from the fake before they are
 * deleted) and the results files, the job and file display names, and
 * every request Google received (URL, headers, body) for the key and each
 * 8-character window of it; and checks the key reached Google only in the
 * `x-goog-api-key` header.
 */
import assert from "node:assert/strict";
import {
  startTestApp,
  TEST_KEY,
  TEST_KEY_OLD,
  type TestApp,
} from "./_helpers.ts";
import {
  BAD_KEY,
  dbCells,
  LeakScan,
  readTree,
  recordingClient,
} from "./_key_leaks.ts";
import { pngBase64 } from "./fake_gemini/png.ts";
import { LIMITS } from "../core/limits.ts";

const MODEL = "gemini-nano-banana-2.1";
/** More rows than go inline: the job's input is an uploaded JSONL file. */
const FILE_PROMPTS = [
  ...Array.from(
    { length: LIMITS.batchInlineRows + 2 },
    (_, i) => `a canary at the pithead, variant ${i}`,
  ),
  "a fox in the snow [block:IMAGE_SAFETY]",
  "a broken lamp [status:500]",
];
const HTMX = { "HX-Request": "true", "HX-Target": "main#main" };
/** Marks the test's own requests to the fake, left out of the K8 check. */
const PROBE = "x-canary-probe";

type Client = ReturnType<typeof recordingClient>;

/** A small PNG of one colour, as a reference image file. */
async function png(rgb: [number, number, number], name: string) {
  return new File(
    [Uint8Array.fromBase64(await pngBase64(12, 8, rgb))],
    name,
    { type: "image/png" },
  );
}

function keyForm(fields: Record<string, string>): URLSearchParams {
  return new URLSearchParams(fields);
}

/**
 * Every file the fake holds (uploaded references and JSONL inputs, results
 * files), listed and downloaded back, into the scan. The fake does not
 * record upload bytes, so this is how they are searched.
 */
async function probeGoogleFiles(
  t: TestApp,
  key: string,
  scan: LeakScan,
  moment: string,
) {
  const headers = { "x-goog-api-key": key, [PROBE]: "1" };
  const listed = await fetch(`${t.fake.url}/v1beta/files?pageSize=100`, {
    headers,
  });
  const listText = await listed.text();
  assert.equal(listed.status, 200, listText);
  scan.add(`Google's file list (${moment})`, listText);
  const files = (JSON.parse(listText).files ?? []) as {
    name: string;
    displayName?: string;
    mimeType: string;
    text?: string;
  }[];
  for (const file of files) {
    const got = await fetch(
      `${t.fake.url}/v1beta/${file.name}:download?alt=media`,
      { headers },
    );
    const bytes = new Uint8Array(await got.arrayBuffer());
    assert.equal(got.status, 200, `download ${file.name}`);
    scan.add(
      `file at Google ${file.name} "${file.displayName}" ${file.mimeType} (${moment})`,
      bytes,
    );
    file.text = new TextDecoder().decode(bytes);
  }
  return files;
}

/** Syncs through the API until every job is collected. */
async function apiSyncToEnd(c: Client, id: string, key: string) {
  for (let i = 0; i < 8; i++) {
    const synced = await c.send(`/api/batches/${id}/sync`, {
      method: "POST",
      headers: { "x-goog-api-key": key },
    });
    assert.equal(synced.status, 200, synced.text);
    const json = JSON.parse(synced.text);
    if (json.jobs.every((j: { collected: boolean }) => j.collected)) {
      return json;
    }
  }
  throw new Error(`batch ${id} was not collected`);
}

/** Syncs through the page's poller route until no poller is drawn. */
async function pageSyncToEnd(c: Client, id: string, key: string) {
  for (let i = 0; i < 8; i++) {
    const synced = await c.send(`/batches/${id}/sync?every=30`, {
      method: "POST",
      headers: { "HX-Request": "true" },
      body: keyForm({ apiKey: key }),
    });
    assert.equal(synced.status, 200, synced.text);
    if (!synced.text.includes("sync-poller")) return synced.text;
  }
  throw new Error(`batch ${id} still at Google on the page`);
}

/** API: a reference, 14 rows as a JSONL job; sync; retry as a job and now. */
async function apiFlow(t: TestApp, c: Client, key: string, scan: LeakScan) {
  const upload = new FormData();
  upload.append("file", await png([200, 180, 20], "canary.png"));
  const uploaded = await c.send("/api/references", {
    method: "POST",
    body: upload,
  });
  assert.equal(uploaded.status, 201, uploaded.text);
  const [ref] = JSON.parse(uploaded.text).references;
  const created = await c.send("/api/batches", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      prompts: FILE_PROMPTS,
      model: MODEL,
      mode: "batch",
      references: [ref.id],
    }),
  });
  assert.equal(created.status, 201, created.text);
  const { id } = JSON.parse(created.text);
  const submitted = await c.send(`/api/batches/${id}/run`, {
    method: "POST",
    headers: { "x-goog-api-key": key },
  });
  assert.equal(submitted.status, 200, submitted.text);
  assert.match(submitted.text, /"type":"submitted"/);
  assert.equal(t.fake.stats().generate, 0, "nothing generated now");
  const job = t.fake.batchJobs().at(-1)!;
  assert.equal(job.inputKind, "file", "the rows went as a JSONL file");

  // What was uploaded for the job, before a sync deletes it.
  const files = await probeGoogleFiles(t, key, scan, "after API submit");
  const jsonl = files.find((f) => f.mimeType === "application/jsonl");
  assert.ok(jsonl, "the JSONL input was uploaded");
  // Its real lines were read and searched: every row, the reference by name.
  assert.equal(jsonl.text!.trim().split("\n").length, FILE_PROMPTS.length);
  assert.match(jsonl.text!, /a canary at the pithead, variant 0/);
  assert.match(jsonl.text!, /"fileData"/);
  assert.ok(files.some((f) => f.mimeType === "image/png"), "reference");

  const done = await apiSyncToEnd(c, id, key);
  assert.equal(done.status, "partial", JSON.stringify(done));
  // Retry the failed rows as a new job, then now at the standard price.
  const again = await c.send(`/api/batches/${id}/run?mode=retry`, {
    method: "POST",
    headers: { "x-goog-api-key": key },
  });
  assert.match(again.text, /"type":"submitted"/);
  await apiSyncToEnd(c, id, key);
  const now = await c.send(`/api/batches/${id}/run?mode=retry&now=1`, {
    method: "POST",
    headers: { "x-goog-api-key": key },
  });
  assert.equal(now.status, 200, now.text);
  assert.match(now.text, /"type":"batch"/);

  const record = JSON.parse((await c.send(`/api/batches/${id}`)).text);
  for (const item of record.items) {
    if (item.image) await c.send(item.image.url);
  }
  await c.send(`/api/batches/${id}/manifest.json`);
  await c.send(`/api/batches/${id}/download.zip`);
  await c.send("/api/batches");
  return id;
}

/** The page: Generate in Batch mode with a reference, submit, poll to Done. */
async function pageFlow(t: TestApp, c: Client, key: string, scan: LeakScan) {
  await c.send("/");
  await c.send("/batches/estimate", {
    method: "POST",
    headers: HTMX,
    body: keyForm({ prompts: "a canary\na lark", model: MODEL, mode: "batch" }),
  });
  const form = new FormData();
  form.append("prompts", "a canary on a perch\na lark [block:IMAGE_SAFETY]");
  form.append("model", MODEL);
  form.append("mode", "batch");
  // The page's Generate sends the key field too: checked, never kept.
  form.append("apiKey", key);
  form.append("references", await png([30, 90, 200], "perch.png"));
  const created = await c.send("/batches", {
    method: "POST",
    headers: HTMX,
    body: form,
  });
  assert.equal(created.status, 201, created.text);
  const id = created.headers.get("hx-push-url")!.split("/").pop()!;
  const sse = await c.send(`/batches/${id}/run?mode=resume`, {
    method: "POST",
    headers: { "HX-Request": "true" },
    body: keyForm({ apiKey: key }),
  });
  assert.equal(sse.status, 200, sse.text);
  assert.match(sse.text, /Submitted to Google/);
  await probeGoogleFiles(t, key, scan, "after page submit");

  // Reloaded: the page, its summary, and a check without a key.
  const page = await c.send(`/batches/${id}`);
  assert.match(page.text, /sync-poller/);
  await c.send(`/batches/${id}/summary`);
  const noKey = await c.send(`/batches/${id}/sync?every=30`, {
    method: "POST",
    headers: { "HX-Request": "true" },
    body: keyForm({ apiKey: "" }),
  });
  assert.match(noKey.text, /Paste your key/);
  const done = await pageSyncToEnd(c, id, key);
  assert.match(done, /data-status="(done|partial)"/);
  await c.send(`/batches/${id}`);
  await c.send(`/batches/${id}`, { headers: HTMX });
  await c.send(`/batches/${id}/download.zip`);
  await c.send("/history");
  return id;
}

/** Cancel at Google from the page, and the invalid key Google echoes. */
async function cancelAndBadKeyFlow(c: Client, key: string) {
  const created = await c.send("/api/batches", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      prompts: ["a slow canary", "a slower canary", "a third", "a fourth"],
      model: MODEL,
      mode: "batch",
    }),
  });
  const { id } = JSON.parse(created.text);
  const submitted = await c.send(`/api/batches/${id}/run`, {
    method: "POST",
    headers: { "x-goog-api-key": key },
  });
  assert.match(submitted.text, /"type":"submitted"/);

  // A key Google rejects, echoing it, on every path that can carry it.
  const apiSync = await c.send(`/api/batches/${id}/sync`, {
    method: "POST",
    headers: { "x-goog-api-key": BAD_KEY },
  });
  assert.match(apiSync.text, /API key not valid/);
  const pageSync = await c.send(`/batches/${id}/sync?every=30`, {
    method: "POST",
    headers: { "HX-Request": "true" },
    body: keyForm({ apiKey: BAD_KEY }),
  });
  assert.match(pageSync.text, /API key not valid/);
  const badCancel = await c.send(`/batches/${id}/cancel-jobs`, {
    method: "POST",
    headers: { "HX-Request": "true" },
    body: keyForm({ apiKey: BAD_KEY }),
  });
  assert.match(badCancel.text, /API key not valid/);
  await c.send(`/batches/${id}`);
  await c.send(`/api/batches/${id}`);

  // Without a key, then with it: cancelled at Google, collected.
  const noKey = await c.send(`/batches/${id}/cancel-jobs`, {
    method: "POST",
    headers: { "HX-Request": "true" },
    body: keyForm({ apiKey: "" }),
  });
  assert.match(noKey.text, /needs your key/);
  const cancel = await c.send(`/batches/${id}/cancel-jobs`, {
    method: "POST",
    headers: { "HX-Request": "true" },
    body: keyForm({ apiKey: key }),
  });
  assert.equal(cancel.status, 200, cancel.text);
  await pageSyncToEnd(c, id, key);
  const apiCancel = await c.send(`/api/batches/${id}/cancel`, {
    method: "POST",
    headers: { "x-goog-api-key": key },
  });
  assert.ok([202, 409].includes(apiCancel.status), apiCancel.text);

  // Submitting with the invalid key: refused with Google's (echoing)
  // words, which must reach neither the page, the log nor the DB.
  const other = await c.send("/api/batches", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      prompts: ["a refused canary"],
      model: MODEL,
      mode: "batch",
    }),
  });
  assert.equal(other.status, 201, other.text);
  const otherId = JSON.parse(other.text).id;
  const refused = await c.send(`/api/batches/${otherId}/run`, {
    method: "POST",
    headers: { "x-goog-api-key": BAD_KEY },
  });
  // (The stream ends `submitted` with no jobs; the record says why.)
  assert.match(refused.text, /"jobs":\[\]/);
  const record = await c.send(`/api/batches/${otherId}`);
  assert.match(record.text, /API key not valid/);
  const refusedPage = await c.send(`/batches/${otherId}/run?mode=resume`, {
    method: "POST",
    headers: { "HX-Request": "true" },
    body: keyForm({ apiKey: BAD_KEY }),
  });
  assert.match(refusedPage.text, /API key not valid/);
  await c.send(`/batches/${otherId}`);
}

async function canary(key: string) {
  await using t = await startTestApp({
    fake: { batch: { getsPerState: 1 } },
    env: { BATCHGEN_MAX_ATTEMPTS: "2" },
  });
  const scan = new LeakScan();
  const client = recordingClient(t, scan);
  await apiFlow(t, client, key, scan);
  await pageFlow(t, client, key, scan);
  await cancelAndBadKeyFlow(client, key);
  assert.equal(t.deps.activeRuns.size, 0);
  await probeGoogleFiles(t, key, scan, "at the end");

  // Every job's display name, and what Google's job list shows.
  for (const job of t.fake.batchJobs()) {
    scan.add(`job ${job.name} display name`, job.displayName);
    scan.add(`job ${job.name} record`, JSON.stringify(job));
  }
  assert.equal(
    t.fake.batchJobs().length,
    4,
    "jobs made: API, its retry, page, cancelled",
  );
  assert.ok(
    t.fake.requests.some((r) => r.path.endsWith(":cancel")),
    "a job was cancelled at Google",
  );

  t.logs.forEach((line, i) => scan.add(`server log line ${i}`, line));
  t.stderrLines.forEach((line, i) => scan.add(`generator stderr ${i}`, line));
  const files = await readTree(t.dataDir);
  const names = files.map(([path]) => path.slice(t.dataDir.length));
  for (const needed of ["/batchgen.db", "/batchgen.db-wal", "manifest.json"]) {
    assert.ok(names.some((n) => n.endsWith(needed)), `no ${needed}: ${names}`);
  }
  assert.ok(names.some((n) => n.endsWith(".png")), `no image: ${names}`);
  for (const [path, bytes] of files) scan.add(`data file ${path}`, bytes);
  const cells = await dbCells(t);
  assert.ok(cells.some(([cell]) => cell.startsWith("google_jobs.")), "jobs");
  for (const [cell, value] of cells) scan.add(`DB ${cell}`, value);

  // K8: every request Google received carried a key, in x-goog-api-key
  // only: never in its URL, another header or its body.
  const sent = t.fake.requests.filter((r) => !r.headers[PROBE]);
  assert.ok(
    sent.some((r) => r.path.includes("/upload/")),
    "references and a JSONL file were uploaded",
  );
  assert.ok(sent.some((r) => r.path.includes(":batchGenerateContent")));
  assert.ok(sent.some((r) => /\/batches\/[^/:]+$/.test(r.path)), "job GETs");
  for (const [i, r] of sent.entries()) {
    const where = `Google request ${i} (${r.method} ${r.path})`;
    assert.ok(
      [key, BAD_KEY].includes(r.headers["x-goog-api-key"] ?? ""),
      `${where} had no key header`,
    );
    assert.equal(r.query.key, undefined, `${where}: ?key= sent`);
    scan.add(`${where} URL`, `${r.path}?${new URLSearchParams(r.query)}`);
    for (const [name, value] of Object.entries(r.headers)) {
      if (name !== "x-goog-api-key") scan.add(`${where} header ${name}`, value);
    }
    scan.add(`${where} body`, JSON.stringify(r.body) ?? "");
  }
  assert.ok(scan.places.length > 200, `only ${scan.places.length} places`);
  scan.assertClean([key, BAD_KEY]);
}

Deno.test({
  name:
    "K1 K2 K5 K8 Batch-mode leak canary (AQ. key): no trace in responses, logs, DB, files, uploads, job names or Google URLs and bodies",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => canary(TEST_KEY),
});

Deno.test({
  name:
    "K1 K2 K5 K8 Batch-mode leak canary (AIza key): no trace in responses, logs, DB, files, uploads, job names or Google URLs and bodies",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => canary(TEST_KEY_OLD),
});
