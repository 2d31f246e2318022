/**
 * The state file of a CLI batch in Batch mode (`<out>/batchgen-jobs.json`):
 * what the server keeps in its database for such a batch — the batch, its
 * items and images (core/records.ts) and its jobs at Google (GoogleJob) —
 * so that a later `--sync` with the key can collect the results. It holds
 * names, counts and prompts; never the key (K1): it is built from records
 * only, and every string is scrubbed once more before it is written.
 *
 * The file is read back as untrusted input: a hand-edited or truncated file
 * is refused with a clear message, and the fields that reach a URL or a
 * file name are checked here as well as where they are used.
 */
import { join } from "node:path";
import { z } from "zod";
import type { ManifestReference } from "../core/manifest.ts";
import {
  type Batch,
  BATCH_MODES,
  BATCH_STATUSES,
  type BatchSettings,
  type GoogleJob,
  type Image,
  type Item,
  ITEM_STATUSES,
  JOB_STATES,
} from "../core/records.ts";
import { IMAGE_FILE_NAME } from "../core/files.ts";
import { createScrubber } from "../core/scrub.ts";
import { BATCH_NAME, ROW_KEY } from "../gemini/batches.ts";
import { FILE_NAME } from "../gemini/files_wire.ts";
import { writeFileAtomic } from "../lib/storage.ts";

/** The state file's name in the output folder. */
export const STATE_NAME = "batchgen-jobs.json";
const FORMAT = "batchgen-cli-jobs";
const VERSION = 1;

/** Everything a sync needs, and nothing that could unlock the account. */
export interface CliBatchState {
  batch: Batch;
  items: Item[];
  images: Image[];
  references: ManifestReference[];
  jobs: GoogleJob[];
  /** Why some items never reached Google (they are `interrupted`), if so. */
  notSubmitted: string | null;
}

const text = z.string();
const count = z.number().int().min(0);
const usd = z.number().finite().nullable();
const date = z.iso.datetime().transform((s) => new Date(s));
const isRecord = (v: unknown) =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const batchSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/),
  workspaceId: text,
  createdAt: date,
  updatedAt: date,
  title: text,
  model: text,
  // Only echoed into the manifest.
  settings: z.custom<BatchSettings>(isRecord),
  status: z.enum(BATCH_STATUSES),
  statusMessage: text.nullable(),
  itemCount: count,
  succeededCount: count,
  failedCount: count,
  blockedCount: count,
  estimatedCostUsd: usd,
  actualCostUsd: z.number().finite(),
  budgetUsd: usd,
  priceListDate: text.nullable(),
  promptBytes: count,
  mode: z.enum(BATCH_MODES),
}) satisfies z.ZodType<Batch, unknown>;

const itemSchema = z.object({
  // Each request's key at Google is its item's id.
  id: z.string().regex(ROW_KEY),
  batchId: text,
  // Image file names are made from these two.
  position: count,
  imageIndex: count,
  prompt: text,
  model: text,
  aspectRatio: text,
  imageSize: text,
  name: text.nullable(),
  row: count.nullable(),
  template: text.nullable(),
  choices: z.array(text).nullable(),
  axis: z.record(text, text).nullable(),
  references: z.array(text),
  status: z.enum(ITEM_STATUSES),
  attempts: count,
  errorKind: text.nullable(),
  errorMessage: text.nullable(),
  promptTokens: count.nullable(),
  outputTokens: count.nullable(),
  imageTokens: count.nullable(),
  thoughtTokens: count.nullable(),
  costUsd: usd,
  startedAt: date.nullable(),
  finishedAt: date.nullable(),
}) satisfies z.ZodType<Item, unknown>;

const imageSchema = z.object({
  id: text,
  itemId: text,
  batchId: text,
  fileName: z.string().regex(IMAGE_FILE_NAME),
  mimeType: text,
  bytes: count,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  width: count.nullable(),
  height: count.nullable(),
  createdAt: date,
}) satisfies z.ZodType<Image, unknown>;

const jobSchema = z.object({
  id: text,
  batchId: text,
  name: z.string().regex(BATCH_NAME),
  model: text,
  state: z.enum(JOB_STATES),
  requestCount: count,
  succeededCount: count,
  failedCount: count,
  itemIds: z.array(z.string().regex(ROW_KEY)),
  uploadedFiles: z.array(z.string().regex(FILE_NAME)),
  collected: z.boolean(),
  error: text.nullable(),
  createdAt: date,
  updatedAt: date,
}) satisfies z.ZodType<GoogleJob, unknown>;

const stateSchema = z.object({
  format: z.literal(FORMAT),
  version: z.literal(VERSION),
  batch: batchSchema,
  items: z.array(itemSchema),
  images: z.array(imageSchema),
  references: z.array(z.object({
    id: text,
    name: text,
    mimeType: text,
    bytes: count,
    sha256: text,
  })),
  jobs: z.array(jobSchema).min(1),
  notSubmitted: text.nullable(),
});

/** The folder's state, or why there is none to use (a usage error). */
export type StateRead =
  | { ok: true; state: CliBatchState }
  | { ok: false; missing: boolean; message: string };

/** Reads and checks `<dir>/batchgen-jobs.json`. */
export async function readBatchState(dir: string): Promise<StateRead> {
  const path = join(dir, STATE_NAME);
  let raw: string;
  try {
    raw = await Deno.readTextFile(path);
  } catch (error) {
    const missing = error instanceof Deno.errors.NotFound;
    return {
      ok: false,
      missing,
      message: missing
        ? `No Batch-mode jobs to sync in ${dir}: ${STATE_NAME} is not there. Submit a batch with --batch-mode --out ${dir} first.`
        : `Cannot read ${path}: ${(error as Error).message}`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, missing: false, message: notOurs(path, "not JSON") };
  }
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join(".") || "the file";
    return {
      ok: false,
      missing: false,
      message: notOurs(path, `${where}: ${issue?.message ?? "invalid"}`),
    };
  }
  const { format: _f, version: _v, ...state } = parsed.data;
  return { ok: true, state };
}

function notOurs(path: string, why: string): string {
  return `${path} is not a BatchGen CLI state file this version can use (${why}). It is written by --batch-mode; restore it or submit again into another folder.`;
}

/** Writes the state file atomically: a reader never sees half of it. */
export async function writeBatchState(
  dir: string,
  state: CliBatchState,
  secrets: readonly string[],
): Promise<string> {
  return await writeJson(
    dir,
    STATE_NAME,
    { format: FORMAT, version: VERSION, ...state },
    secrets,
  );
}

/**
 * Writes `value` as indented JSON, atomically, every string scrubbed of the
 * key: the backstop behind records that are key-free by construction.
 */
export async function writeJson(
  dir: string,
  name: string,
  value: unknown,
  secrets: readonly string[],
): Promise<string> {
  const plain = JSON.parse(JSON.stringify(value));
  const clean = createScrubber(secrets).scrubValue(plain);
  return await writeFileAtomic(
    dir,
    name,
    new TextEncoder().encode(JSON.stringify(clean, null, 2) + "\n"),
  );
}
