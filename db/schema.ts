/**
 * Drizzle tables for the records of `core/records.ts`. Key-free by
 * construction: no column can hold a key (K1).
 */
import {
  index,
  integer,
  primaryKey,
  real,
  sqliteTable,
  text,
} from "drizzle-orm/sqlite-core";
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
  type ReferenceImage,
  type RowSettings,
} from "../core/records.ts";
import type { ImageMimeType } from "../core/files.ts";

export const batches = sqliteTable("batches", {
  id: text("id").primaryKey(),
  workspaceId: text("workspace_id").notNull(),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  title: text("title").notNull(),
  model: text("model").notNull(),
  settings: text("settings", { mode: "json" }).$type<BatchSettings>()
    .notNull(),
  status: text("status", { enum: BATCH_STATUSES }).notNull(),
  statusMessage: text("status_message"),
  itemCount: integer("item_count").notNull(),
  succeededCount: integer("succeeded_count").notNull().default(0),
  failedCount: integer("failed_count").notNull().default(0),
  /** Of `failedCount`, the items Google blocked (shown apart). */
  blockedCount: integer("blocked_count").notNull().default(0),
  estimatedCostUsd: real("estimated_cost_usd"),
  actualCostUsd: real("actual_cost_usd").notNull().default(0),
  budgetUsd: real("budget_usd"),
  priceListDate: text("price_list_date"),
  /** UTF-8 bytes of the batch's prompts (workspace quotas count them). */
  promptBytes: integer("prompt_bytes").notNull().default(0),
  mode: text("mode", { enum: BATCH_MODES }).notNull().default("standard"),
}, (t) => [
  index("batches_workspace_created").on(t.workspaceId, t.createdAt),
  index("batches_status").on(t.status),
]);

export const items = sqliteTable("items", {
  id: text("id").primaryKey(),
  batchId: text("batch_id").notNull().references(() => batches.id, {
    onDelete: "cascade",
  }),
  position: integer("position").notNull(),
  imageIndex: integer("image_index").notNull(),
  status: text("status", { enum: ITEM_STATUSES }).notNull(),
  attempts: integer("attempts").notNull().default(0),
  errorKind: text("error_kind"),
  errorMessage: text("error_message"),
  promptTokens: integer("prompt_tokens"),
  outputTokens: integer("output_tokens"),
  imageTokens: integer("image_tokens"),
  thoughtTokens: integer("thought_tokens"),
  costUsd: real("cost_usd"),
  startedAt: integer("started_at", { mode: "timestamp_ms" }),
  finishedAt: integer("finished_at", { mode: "timestamp_ms" }),
}, (t) => [
  index("items_batch_position").on(t.batchId, t.position, t.imageIndex),
]);

/**
 * Each row of a batch, stored once: its prompt and the settings it runs with.
 * Its items (one per image) find it by position, so ten images of a long
 * prompt do not store it ten times.
 */
export const prompts = sqliteTable("prompts", {
  batchId: text("batch_id").notNull().references(() => batches.id, {
    onDelete: "cascade",
  }),
  position: integer("position").notNull(),
  text: text("text").notNull(),
  model: text("model").notNull(),
  aspectRatio: text("aspect_ratio").notNull(),
  imageSize: text("image_size").notNull(),
  name: text("name"),
  row: integer("source_row"),
  template: text("template"),
  choices: text("choices", { mode: "json" }).$type<string[]>(),
  axis: text("axis", { mode: "json" }).$type<Record<string, string>>(),
  references: text("reference_ids", { mode: "json" }).$type<string[]>()
    .notNull(),
}, (t) => [primaryKey({ columns: [t.batchId, t.position] })]);

/**
 * Reference images per workspace. The bytes live once per content in the
 * data dir (by sha256); this row says who uploaded them under what name.
 */
export const referenceImages = sqliteTable("reference_images", {
  id: text("id").primaryKey(),
  workspaceId: text("workspace_id").notNull(),
  name: text("name").notNull(),
  mimeType: text("mime_type").$type<ImageMimeType>().notNull(),
  bytes: integer("bytes").notNull(),
  sha256: text("sha256").notNull(),
  width: integer("width"),
  height: integer("height"),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
}, (t) => [index("reference_images_workspace").on(t.workspaceId, t.sha256)]);

/**
 * The workspaces this server issued, by id (the SHA-256 of the token; the
 * token itself is never stored). A token not issued here opens nothing.
 */
export const workspaces = sqliteTable("workspaces", {
  id: text("id").primaryKey(),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
});

/** Jobs at Google's Batch API (Batch mode), by the batch they serve. */
export const googleJobs = sqliteTable("google_jobs", {
  id: text("id").primaryKey(),
  batchId: text("batch_id").notNull().references(() => batches.id, {
    onDelete: "cascade",
  }),
  name: text("name").notNull(),
  model: text("model").notNull(),
  state: text("state", { enum: JOB_STATES }).notNull(),
  requestCount: integer("request_count").notNull(),
  succeededCount: integer("succeeded_count").notNull().default(0),
  failedCount: integer("failed_count").notNull().default(0),
  itemIds: text("item_ids", { mode: "json" }).$type<string[]>().notNull(),
  uploadedFiles: text("uploaded_files", { mode: "json" }).$type<string[]>()
    .notNull(),
  collected: integer("collected", { mode: "boolean" }).notNull().default(
    false,
  ),
  error: text("error"),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
}, (t) => [index("google_jobs_batch").on(t.batchId)]);

export const images = sqliteTable("images", {
  id: text("id").primaryKey(),
  itemId: text("item_id").notNull().unique().references(() => items.id, {
    onDelete: "cascade",
  }),
  batchId: text("batch_id").notNull().references(() => batches.id, {
    onDelete: "cascade",
  }),
  fileName: text("file_name").notNull(),
  mimeType: text("mime_type").notNull(),
  bytes: integer("bytes").notNull(),
  sha256: text("sha256").notNull(),
  width: integer("width"),
  height: integer("height"),
  createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
}, (t) => [index("images_batch").on(t.batchId)]);

/**
 * Who runs a batch now, when several instances share the database: one row
 * per batch while an instance runs (or recovers) it. `owner` is the
 * instance id; the owner renews `expires_at` (ms, the database's clock)
 * while the run lasts and deletes the row when it ends. A row whose time
 * has passed belongs to nobody: its instance stopped without a goodbye.
 * Not a record of core/records.ts: only engine/leases.ts reads it.
 */
export const runLeases = sqliteTable("run_leases", {
  batchId: text("batch_id").primaryKey().references(() => batches.id, {
    onDelete: "cascade",
  }),
  owner: text("owner").notNull(),
  expiresAt: integer("expires_at").notNull(),
  acquiredAt: integer("acquired_at").notNull(),
  /** Set by an instance that was asked to cancel a run it does not hold. */
  cancelRequested: integer("cancel_requested", { mode: "boolean" }).notNull()
    .default(false),
});

// The tables must store exactly core's records, both ways: a column added
// here without its field in core/records.ts (or the reverse) fails to compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const tablesMatchRecords: [
  Same<typeof batches.$inferSelect, Batch>,
  // An item's prompt and row settings live in `prompts`, joined by position.
  Same<typeof items.$inferSelect & { prompt: string } & RowSettings, Item>,
  Same<
    Omit<typeof prompts.$inferSelect, "batchId" | "position" | "text">,
    RowSettings
  >,
  Same<typeof images.$inferSelect, Image>,
  Same<typeof referenceImages.$inferSelect, ReferenceImage>,
  Same<typeof googleJobs.$inferSelect, GoogleJob>,
] = [true, true, true, true, true, true];
void tablesMatchRecords;
