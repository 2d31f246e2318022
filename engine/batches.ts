/** Turns validated input into a stored batch with its cost estimate. */
import type { Db } from "../db/client.ts";
import { createBatch } from "../db/batch_queries.ts";
import type { Batch } from "../db/schema.ts";
import type { BatchInput } from "../core/batch_input.ts";
import { estimateBatch } from "../core/cost.ts";

/** A default title from the first prompt. */
export function defaultTitle(prompts: readonly string[]): string {
  const first = prompts[0] ?? "Batch";
  const short = first.length > 60 ? `${first.slice(0, 57)}…` : first;
  return prompts.length > 1 ? `${short} (+${prompts.length - 1})` : short;
}

/** Estimates and stores a new batch for the workspace. */
export async function storeNewBatch(
  db: Db,
  workspaceId: string,
  input: BatchInput & { imageSize: string },
  defaultConcurrency: number,
): Promise<Batch> {
  const estimate = estimateBatch({
    model: input.model,
    imageSize: input.imageSize,
    prompts: input.prompts,
    imagesPerPrompt: input.imagesPerPrompt,
  });
  return await createBatch(db, {
    workspaceId,
    title: input.title || defaultTitle(input.prompts),
    model: input.model,
    settings: {
      aspectRatio: input.aspectRatio,
      imageSize: input.imageSize,
      imagesPerPrompt: input.imagesPerPrompt,
      concurrency: input.concurrency ?? defaultConcurrency,
    },
    prompts: input.prompts,
    estimatedCostUsd: estimate.totalUsd,
    priceListDate: estimate.priceListDate,
    budgetUsd: input.budgetUsd ?? null,
  });
}
