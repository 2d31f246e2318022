/**
 * The generator's wire protocol: one JSON job as the first line on stdin
 * (then control lines, or stdin closed), JSON-line events on stdout. Both sides validate with these schemas. No field carries the key:
 * it travels only in the child's environment (K4).
 */
import { z } from "zod";
import { FAILURE_KINDS, type FailureKind } from "./failure_kinds.ts";
import { DEFAULTS, LIMITS } from "./limits.ts";
import type { Usage } from "./cost.ts";
import { IMAGE_FILE_NAME, IMAGE_MIME_TYPES } from "./files.ts";
import { geminiBaseUrlProblem } from "./loopback.ts";

const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/);

export const jobItemSchema = z.object({
  itemId: z.string().min(1),
  position: z.number().int().min(0),
  imageIndex: z.number().int().min(0),
  prompt: z.string().min(1),
  /** The item's row settings; the job's apply when left out. */
  model: z.string().min(1).optional(),
  aspectRatio: z.string().min(1).optional(),
  /** "" for a model that takes no `imageSize`. */
  imageSize: z.string().optional(),
  /** Reference images sent before the prompt, by sha256 (see `references`). */
  references: z.array(sha256Schema).max(LIMITS.referencesPerUpload)
    .optional(),
});

/** A reference image the job's items use: its bytes are read from `path`. */
export const jobReferenceSchema = z.object({
  sha256: sha256Schema,
  mimeType: z.enum(IMAGE_MIME_TYPES),
  path: z.string().min(1),
});
export type JobReference = z.infer<typeof jobReferenceSchema>;
export type JobItem = z.infer<typeof jobItemSchema>;

export const jobSchema = z.object({
  batchId: z.string().min(1),
  model: z.string().min(1),
  aspectRatio: z.string().min(1),
  /** Omitted for models that take no `imageSize`. */
  imageSize: z.string().min(1).optional(),
  concurrency: z.number().int().min(1).max(LIMITS.concurrency),
  outputDir: z.string().min(1),
  /**
   * The batch's generator lock (lib/batch_lock.ts), held by the generator
   * for its life so a restarted server never races an orphan of its own.
   */
  lockPath: z.string().min(1).optional(),
  /** Overrides BATCHGEN_GEMINI_BASE_URL; the same rule applies (K7). */
  apiBaseUrl: z.string().refine((url) => !geminiBaseUrlProblem(url), {
    message: "must be https:// (plain http:// only to this machine)",
  }).optional(),
  timeoutMs: z.number().int().min(LIMITS.minRequestTimeoutMs).max(
    LIMITS.requestTimeoutMs,
  ).default(DEFAULTS.requestTimeoutMs),
  maxAttempts: z.number().int().min(1).max(LIMITS.maxAttempts).default(
    DEFAULTS.maxAttempts,
  ),
  items: z.array(jobItemSchema),
  /**
   * The reference images of the items. One used by several items is
   * uploaded once per run through the Files API and deleted at the end.
   */
  references: z.array(jobReferenceSchema).optional(),
  /**
   * Budget cap of the batch in USD of estimated Google usage: no request
   * starts whose estimate would take the spending over it (issue #5).
   */
  budgetUsd: z.number().min(0).optional(),
  /** Estimated USD this batch already spent in earlier runs (counts toward the cap). */
  spentUsd: z.number().min(0).optional(),
});
export type Job = z.infer<typeof jobSchema>;
// An item's settings (its row's, else the job's): core/protocol_check.ts,
// zod-free, so the generator child can use them without loading zod.

export { FAILURE_KINDS, type FailureKind };

// Keyed by `Usage` (core/cost.ts) so the event cannot drift from the type
// that prices it.
const tokens = z.number().int().min(0).max(LIMITS.tokensPerAnswer);
const usageFields = {
  promptTokens: tokens,
  outputTokens: tokens,
  imageTokens: tokens,
  thoughtTokens: tokens,
} satisfies Record<keyof Usage, z.ZodNumber>;

export const eventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("started"), items: z.number().int() }),
  z.object({
    type: z.literal("item-started"),
    itemId: z.string(),
    attempt: z.number().int().min(1),
  }),
  z.object({
    type: z.literal("image-saved"),
    itemId: z.string(),
    // The parent joins this name to the batch's folder and records it.
    fileName: z.string().regex(IMAGE_FILE_NAME),
    // Only the types BatchGen stores and serves (checked on the bytes).
    mimeType: z.enum(IMAGE_MIME_TYPES),
    bytes: z.number().int().min(0),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    width: z.number().int().optional(),
    height: z.number().int().optional(),
  }),
  z.object({
    type: z.literal("item-failed"),
    itemId: z.string(),
    kind: z.enum(FAILURE_KINDS),
    message: z.string(),
    retryable: z.boolean(),
  }),
  z.object({ type: z.literal("usage"), itemId: z.string(), ...usageFields }),
  z.object({
    type: z.literal("rate-limited"),
    retryAfterMs: z.number().int().min(0),
    /** The quota that tripped, when Google named it (QuotaFailure). */
    quotaLimit: z.number().int().min(1).optional(),
    quotaWindowMs: z.number().int().min(1).optional(),
  }),
  /**
   * The generator wants to start one request and waits for a grant line on
   * stdin (the server's shared per-workspace limiter). Only sent while
   * stdin is open after the job.
   */
  z.object({ type: z.literal("token-request") }),
  z.object({
    type: z.literal("batch-stopped"),
    kind: z.enum(FAILURE_KINDS),
    message: z.string(),
  }),
  z.object({
    type: z.literal("done"),
    succeeded: z.number().int(),
    failed: z.number().int(),
  }),
]);
export type GeneratorEvent = z.infer<typeof eventSchema>;

/** What the `image-saved` event reports about a written file. */
export type SavedImage = Omit<
  Extract<GeneratorEvent, { type: "image-saved" }>,
  "type" | "itemId"
>;

/**
 * The control lines the server writes to the generator's stdin after the
 * job line: each grant lets one request start.
 */
export const controlSchema = z.object({ type: z.literal("grant") });
export type ControlLine = z.infer<typeof controlSchema>;
export const GRANT_LINE = JSON.stringify({ type: "grant" }) + "\n";

/** Serialises one event as a protocol line. */
export function encodeEvent(event: GeneratorEvent): string {
  return JSON.stringify(eventSchema.parse(event)) + "\n";
}

/** Parses one protocol line; throws on anything that is not a valid event. */
export function decodeEvent(line: string): GeneratorEvent {
  return eventSchema.parse(JSON.parse(line));
}
