/**
 * Shared by the engine tests (issue #3): running a batch through the JSON API
 * and reading back what the app stored, what is on disk and what the fake
 * Gemini received.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { listImages } from "../db/batch_queries.ts";
import type { FakeGemini, RecordedRequest } from "./fake_gemini.ts";
import {
  createBatchViaApi,
  readNdjson,
  TEST_KEY,
  type TestApp,
} from "./_helpers.ts";

/** An event line of the NDJSON run stream. */
export type RunEvent = Record<string, unknown> & { type: string };

/** The batch as `GET /api/batches/:id` shows it. */
export interface BatchRecord {
  id: string;
  status: string;
  statusMessage: string | null;
  counts: { items: number; succeeded: number; failed: number };
  items: ItemRecord[];
}

/** One item as the API shows it. */
export interface ItemRecord {
  id: string;
  position: number;
  prompt: string;
  status: string;
  attempts: number;
  errorKind: string | null;
  errorMessage: string | null;
  image: { file: string } | null;
}

/** Creates a batch of one image per prompt on the default model. */
export async function createBatch(
  t: TestApp,
  prompts: string[],
  extra: Record<string, unknown> = {},
): Promise<{ id: string; cookie: string }> {
  return await createBatchViaApi(t, {
    prompts,
    model: "gemini-nano-banana-2.1",
    ...extra,
  });
}

/** Starts a run over the API; the caller reads (or cancels) the stream. */
export async function startRun(
  t: TestApp,
  batch: { id: string; cookie: string },
  { key = TEST_KEY, mode }: { key?: string; mode?: "resume" | "retry" } = {},
): Promise<Response> {
  const query = mode ? `?mode=${mode}` : "";
  const response = await t.request(`/api/batches/${batch.id}/run${query}`, {
    method: "POST",
    headers: { "x-goog-api-key": key, cookie: batch.cookie },
  });
  assert.equal(response.status, 200, "the run starts");
  return response;
}

/** Runs a batch to its end over the API; returns the events and the final batch. */
export async function runToEnd(
  t: TestApp,
  batch: { id: string; cookie: string },
  options: { key?: string; mode?: "resume" | "retry" } = {},
): Promise<{ events: RunEvent[]; batch: BatchRecord }> {
  const events = await readNdjson(
    await startRun(t, batch, options),
  ) as RunEvent[];
  const last = events.at(-1);
  assert.equal(last?.type, "batch", "the stream ends with the batch record");
  return { events, batch: await getBatchRecord(t, batch) };
}

/** `GET /api/batches/:id`. */
export async function getBatchRecord(
  t: TestApp,
  batch: { id: string; cookie: string },
): Promise<BatchRecord> {
  const response = await t.request(`/api/batches/${batch.id}`, {
    headers: { cookie: batch.cookie },
  });
  assert.equal(response.status, 200);
  return await response.json();
}

/** Reads NDJSON events from a live stream until `until` matches one (or the end). */
export async function readUntil(
  reader: ReadableStreamDefaultReader<string>,
  seen: RunEvent[],
  until: (event: RunEvent, seen: RunEvent[]) => boolean,
  buffer = { text: "" },
): Promise<boolean> {
  while (true) {
    let newline;
    while ((newline = buffer.text.indexOf("\n")) >= 0) {
      const line = buffer.text.slice(0, newline);
      buffer.text = buffer.text.slice(newline + 1);
      if (!line.trim()) continue;
      const event = JSON.parse(line) as RunEvent;
      seen.push(event);
      if (until(event, seen)) return true;
    }
    const { value, done } = await reader.read();
    if (done) return false;
    buffer.text += value;
  }
}

/** Waits until the batch has no run in this app (after a client went away). */
export async function waitForRunEnd(
  t: TestApp,
  batchId: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (t.deps.activeRuns.has(batchId)) {
    if (Date.now() > deadline) throw new Error("the run did not end");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The generateContent requests the fake received, in arrival order. */
export function generateRequests(fake: FakeGemini): RecordedRequest[] {
  return fake.requests.filter((r) => r.path.endsWith(":generateContent"));
}

/** The prompt text of a recorded generateContent request. */
export function promptOf(request: RecordedRequest): string {
  const body = request.body as {
    contents?: { parts?: { text?: string }[] }[];
  } | null;
  return (body?.contents ?? []).flatMap((c) => c.parts ?? []).map((p) =>
    p.text ?? ""
  ).join("\n");
}

/** generateContent requests whose prompt contains `marker`. */
export function requestsFor(
  fake: FakeGemini,
  marker: string,
): RecordedRequest[] {
  return generateRequests(fake).filter((r) => promptOf(r).includes(marker));
}

/** Image files (not manifest, not temp files) in a batch's directory. */
export function imageFiles(t: TestApp, batchId: string): string[] {
  const dir = join(t.config.imagesDir, batchId);
  return [...Deno.readDirSync(dir)].filter((e) =>
    e.isFile && /^\d{4,}-\d+\.(png|jpg|webp)$/.test(e.name)
  ).map((e) => e.name).sort();
}

/**
 * Temp files left by interrupted writes in a batch's directory (none when
 * the folder is gone: with S3 storage it is emptied and removed).
 */
export function tempFiles(t: TestApp, batchId: string): string[] {
  const dir = join(t.config.imagesDir, batchId);
  try {
    return [...Deno.readDirSync(dir)].filter((e) => e.name.startsWith("."))
      .map((e) => e.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

/**
 * Proves "every item succeeded exactly once": every item `succeeded`, one
 * image row per item (no item with two), one file per item on disk.
 */
export async function assertEachItemOnce(
  t: TestApp,
  batch: { id: string; cookie: string },
  items: number,
): Promise<void> {
  const record = await getBatchRecord(t, batch);
  assert.equal(record.status, "done");
  assert.equal(record.counts.succeeded, items);
  assert.ok(record.items.every((i) => i.status === "succeeded"));
  const rows = await listImages(t.deps.db, batch.id);
  assert.equal(rows.length, items, "one image row per item");
  assert.equal(new Set(rows.map((r) => r.itemId)).size, items);
  assert.equal(new Set(rows.map((r) => r.fileName)).size, items);
  const files = imageFiles(t, batch.id);
  assert.equal(files.length, items, "one file per item on disk");
  assert.deepEqual(files, rows.map((r) => r.fileName).sort());
  assert.deepEqual(tempFiles(t, batch.id), [], "no temp files left");
}

/** The generator pid of the last run of `batchId`, from the server log. */
export function generatorPid(t: TestApp, batchId: string): number {
  const line = t.logs.filter((l) =>
    l.includes('"run started"') && l.includes(batchId)
  ).at(-1);
  assert.ok(line, "the server logged the run start");
  return JSON.parse(line).pid;
}

/** Whether a live (not zombie) process runs the generator under `pid`. */
export function generatorAlive(pid: number): boolean {
  try {
    const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    return cmdline.includes("generator") && !/^State:\s+Z/m.test(status);
  } catch (error) {
    // Without --allow-all Deno refuses /proc: fail, never answer "gone".
    if (error instanceof Deno.errors.NotCapable) throw error;
    return false;
  }
}

/** Asserts a failure reason is readable and holds no key material. */
export function assertReadableReason(
  message: string | null,
  keys: string[] = [TEST_KEY],
): void {
  assert.ok(message && message.trim().length > 0, "a non-empty reason");
  assert.doesNotMatch(message, /^\s*[{[]/, "not a raw JSON body");
  for (const key of keys) {
    for (let i = 0; i + 8 <= key.length; i++) {
      assert.ok(
        !message.includes(key.slice(i, i + 8)),
        `no key fragment in "${message}"`,
      );
    }
  }
}

/** Milliseconds as a stopwatch. */
export function stopwatch(): () => number {
  const start = performance.now();
  return () => performance.now() - start;
}
