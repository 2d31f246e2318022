/**
 * The records BatchGen keeps, as plain types: a batch, its items (one image
 * slot each) and their images. `db/schema.ts` stores exactly these shapes and
 * checks at compile time that its tables still match them. Key-free by
 * construction: no field can hold a key (K1).
 */

export const BATCH_STATUSES = [
  "draft",
  "running",
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
  "succeeded",
  "failed",
  "blocked",
  "interrupted",
  "cancelled",
] as const;
export type ItemStatus = typeof ITEM_STATUSES[number];

/** Settings stored with a batch (and shown on "re-run with these settings"). */
export interface BatchSettings {
  aspectRatio: string;
  imageSize: string;
  imagesPerPrompt: number;
  concurrency: number;
}

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
}

export interface Item {
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

/** An item's token usage, or null before any attempt reported one. */
export function usageOf(item: Item) {
  return item.promptTokens === null ? null : {
    promptTokens: item.promptTokens,
    outputTokens: item.outputTokens,
    imageTokens: item.imageTokens,
    thoughtTokens: item.thoughtTokens,
  };
}
