/**
 * A workspace's quota: how many batches and images it may keep and how many
 * bytes (prompts and images) it may store, so no one workspace can fill the
 * disk. Checked before a batch is stored and before a run starts.
 */
import { refuse, type Result } from "./result.ts";

/** The most one workspace may hold. */
export interface Quota {
  batches: number;
  items: number;
  bytes: number;
}

/** What a workspace holds now. */
export interface QuotaUsage {
  batches: number;
  items: number;
  bytes: number;
}

const MB = 1024 * 1024;

/** Whether a new batch of `items` images and `promptBytes` fits the quota. */
export function newBatchFits(
  quota: Quota,
  usage: QuotaUsage,
  batch: { items: number; promptBytes: number },
): Result<true> {
  if (usage.batches + 1 > quota.batches) {
    return over(
      `This workspace holds ${usage.batches} batches, its maximum (BATCHGEN_WORKSPACE_MAX_BATCHES). Delete some in History to make room.`,
    );
  }
  if (usage.items + batch.items > quota.items) {
    return over(
      `This batch's ${batch.items} images would take the workspace past its ${quota.items} images (BATCHGEN_WORKSPACE_MAX_ITEMS; ${usage.items} kept now). Delete batches in History or make this one smaller.`,
    );
  }
  if (usage.bytes + batch.promptBytes > quota.bytes) return overBytes(quota);
  return { ok: true, value: true };
}

/** Whether a run may start: the workspace still has room to store images. */
export function runFits(quota: Quota, usage: QuotaUsage): Result<true> {
  return usage.bytes >= quota.bytes
    ? overBytes(quota)
    : { ok: true, value: true };
}

function overBytes(quota: Quota): Result<never> {
  return over(
    `This workspace stores its maximum of ${
      Math.round(quota.bytes / MB)
    } MB of prompts and images (BATCHGEN_WORKSPACE_MAX_BYTES). Delete batches in History to make room.`,
  );
}

function over(message: string): Result<never> {
  return refuse("quota_exceeded", message);
}
