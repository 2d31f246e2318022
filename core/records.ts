/**
 * The records BatchGen keeps, as plain types: a batch, its items (one image
 * slot each) and their images. `db/schema.ts` stores exactly these shapes and
 * checks at compile time that its tables still match them. Key-free by
 * construction: no field can hold a key (K1).
 */
import type { ImageMimeType } from "./files.ts";

export const BATCH_STATUSES = [
  "draft",
  "running",
  /** At Google (Batch mode): jobs submitted, results not all collected. */
  "submitted",
  "done",
  "partial",
  "failed",
  "interrupted",
  "cancelled",
] as const;
export type BatchStatus = typeof BATCH_STATUSES[number];

export const ITEM_STATUSES = [
  "pending",
  "running",
  /** In a job at Google (Batch mode), waiting to be collected by a sync. */
  "submitted",
  "succeeded",
  "failed",
  "blocked",
  "interrupted",
  "cancelled",
] as const;
export type ItemStatus = typeof ITEM_STATUSES[number];

/** The settings a matrix varies: every row runs with every combination. */
export interface Matrix {
  model?: string[];
  aspectRatio?: string[];
  imageSize?: string[];
}

/**
 * Settings stored with a batch: the defaults its rows started from, and how
 * its rows were authored (shown on the batch page, kept by a re-run).
 */
export interface BatchSettings {
  aspectRatio: string;
  imageSize: string;
  imagesPerPrompt: number;
  concurrency: number;
  /** Set when the batch ran every row with every combination of these. */
  matrix?: Matrix;
  /** Whether `{a|b}` variants and `__name__` wildcards were expanded. */
  expandTemplates?: boolean;
  /** Random picks instead of every combination (repeatable by seed). */
  sample?: { count: number; seed: number };
  /** One row per reference image. */
  eachReference?: boolean;
}

/**
 * One row of a batch as it runs: its prompt and the settings it runs with.
 * Items (one per image) share their row's, which is stored once.
 */
export interface RowSettings {
  model: string;
  aspectRatio: string;
  imageSize: string;
  /** File-name stem for the row's images in downloads, if given. */
  name: string | null;
  /** 1-based number of the row (or line) it came from. */
  row: number | null;
  /** The template the prompt was expanded from, if any. */
  template: string | null;
  /** The values the template's variants and wildcards took, in order. */
  choices: string[] | null;
  /** The matrix values this row runs with, e.g. `{ model: "…" }`. */
  axis: Record<string, string> | null;
  /** Ids of the reference images sent with the prompt, in order. */
  references: string[];
}

/**
 * How a batch runs: "standard" asks Google for each image while the tab (or
 * script) waits; "batch" submits jobs to Google's Batch API at about half
 * the price, collected later by a sync with the key.
 */
export const BATCH_MODES = ["standard", "batch"] as const;
export type BatchMode = typeof BATCH_MODES[number];

export interface Batch {
  id: string;
  workspaceId: string;
  createdAt: Date;
  updatedAt: Date;
  title: string;
  model: string;
  settings: BatchSettings;
  status: BatchStatus;
  statusMessage: string | null;
  itemCount: number;
  succeededCount: number;
  /** Items that ended without an image: failed or blocked. */
  failedCount: number;
  /** Of those, the ones Google blocked. */
  blockedCount: number;
  estimatedCostUsd: number | null;
  actualCostUsd: number;
  budgetUsd: number | null;
  priceListDate: string | null;
  /** UTF-8 bytes of its prompts. */
  promptBytes: number;
  mode: BatchMode;
}

/** States of a job at Google (Batch mode), as BatchGen names them. */
export const JOB_STATES = [
  "pending",
  "running",
  "succeeded",
  "failed",
  "cancelled",
  "expired",
  "unknown",
] as const;
export type JobState = typeof JOB_STATES[number];

/**
 * A job submitted to Google's Batch API for a batch: its name at Google and
 * what BatchGen knows of it. Key-free: names and counts only.
 */
export interface GoogleJob {
  id: string;
  batchId: string;
  /** `batches/…` at Google. */
  name: string;
  model: string;
  state: JobState;
  requestCount: number;
  succeededCount: number;
  failedCount: number;
  /** The items it holds, in request order (each request's key is its item id). */
  itemIds: string[];
  /** Files uploaded for it (input JSONL, reference images), deleted once collected. */
  uploadedFiles: string[];
  /** Whether every result of the finished job is saved. */
  collected: boolean;
  /** Google's reason when the job failed (scrubbed). */
  error: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface Item extends RowSettings {
  id: string;
  batchId: string;
  position: number;
  imageIndex: number;
  prompt: string;
  status: ItemStatus;
  attempts: number;
  errorKind: string | null;
  errorMessage: string | null;
  promptTokens: number | null;
  outputTokens: number | null;
  imageTokens: number | null;
  thoughtTokens: number | null;
  costUsd: number | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface Image {
  id: string;
  itemId: string;
  batchId: string;
  fileName: string;
  mimeType: string;
  bytes: number;
  sha256: string;
  width: number | null;
  height: number | null;
  createdAt: Date;
}

/**
 * A reference image (image + text → image), stored once by content in the
 * data dir and recorded per workspace. Key-free: bytes and their facts.
 */
export interface ReferenceImage {
  id: string;
  workspaceId: string;
  /** The uploaded file's name, as rows refer to it. */
  name: string;
  mimeType: ImageMimeType;
  bytes: number;
  sha256: string;
  width: number | null;
  height: number | null;
  createdAt: Date;
}

/** An item's token usage, or null before any attempt reported one. */
export function usageOf(item: Item) {
  return item.promptTokens === null ? null : {
    promptTokens: item.promptTokens,
    outputTokens: item.outputTokens,
    imageTokens: item.imageTokens,
    thoughtTokens: item.thoughtTokens,
  };
}
