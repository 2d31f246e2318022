/**
 * The CLI's batch, held in memory as the server holds one in its database:
 * the same records (core/records.ts), moved through the same state machine
 * (core/status.ts) by the same generator events, priced by the same table,
 * and written out as the same manifest (core/manifest.ts).
 */
import { type BatchPlan, estimatedUsd, itemSlots } from "../core/batch_plan.ts";
import { costFromUsage } from "../core/cost.ts";
import { imageStem } from "../core/files.ts";
import { requestImageSize } from "../core/catalog.ts";
import { buildManifest } from "../core/manifest.ts";
import type { GeneratorEvent, JobItem } from "../core/protocol.ts";
import type { Batch, Image, Item } from "../core/records.ts";
import {
  afterRun,
  batchCounts,
  batchStatusFrom,
  countStatuses,
  failedFields,
  IN_RUN,
  NEW_BATCH,
  NEW_ITEM,
  type RunEnd,
  startedFields,
  succeededFields,
} from "../core/status.ts";

/** A batch run by the CLI, its items and images. */
export interface CliRecords {
  batch: Batch;
  items: Item[];
  images: Image[];
  /** The job's items, for the generator. */
  jobItems(): JobItem[];
  /** Applies one generator event. */
  apply(event: GeneratorEvent): void;
  /** Items that ended so far, and how many there are. */
  progress(): {
    finished: number;
    total: number;
    label: (id: string) => string;
  };
  /** Settles the batch after the run and returns the manifest document. */
  finish(end: RunEnd): ReturnType<typeof buildManifest>;
}

/** Records for a planned batch; `id` names it in the manifest. */
export function createCliRecords(plan: BatchPlan, id: string): CliRecords {
  const now = new Date();
  const batch: Batch = {
    id,
    workspaceId: "cli",
    createdAt: now,
    updatedAt: now,
    title: plan.title,
    model: plan.model,
    settings: plan.settings,
    status: NEW_BATCH,
    statusMessage: null,
    itemCount: 0,
    succeededCount: 0,
    failedCount: 0,
    blockedCount: 0,
    // At the price of the batch's mode, as the server stores it.
    estimatedCostUsd: estimatedUsd(plan),
    actualCostUsd: 0,
    budgetUsd: plan.budgetUsd,
    priceListDate: plan.estimate.priceListDate,
    mode: plan.mode,
    promptBytes: plan.rows.reduce(
      (sum, row) => sum + new TextEncoder().encode(row.prompt).length,
      0,
    ),
  };
  const shaOf = new Map(plan.references.map((r) => [r.id, r.sha256]));
  const items: Item[] = itemSlots(plan).map((slot) => {
    const { images: _, ...row } = plan.rows[slot.position]!;
    return {
      id: `${slot.position}-${slot.imageIndex}`,
      batchId: id,
      ...slot,
      ...row,
      status: NEW_ITEM,
      attempts: 0,
      errorKind: null,
      errorMessage: null,
      promptTokens: null,
      outputTokens: null,
      imageTokens: null,
      thoughtTokens: null,
      costUsd: null,
      startedAt: null,
      finishedAt: null,
    };
  });
  batch.itemCount = items.length;
  const images: Image[] = [];
  const byId = new Map(items.map((item) => [item.id, item]));
  let finished = 0;

  return {
    batch,
    items,
    images,
    jobItems: () =>
      items.map((item) => ({
        itemId: item.id,
        position: item.position,
        imageIndex: item.imageIndex,
        prompt: item.prompt,
        model: item.model,
        aspectRatio: item.aspectRatio,
        imageSize: requestImageSize(item.model, item.imageSize) ?? "",
        references: item.references.map((ref) => shaOf.get(ref)!),
      })),
    apply(event) {
      const item = "itemId" in event ? byId.get(event.itemId) : undefined;
      if (!item) return;
      const now = new Date();
      switch (event.type) {
        case "item-started":
          Object.assign(item, startedFields(now), {
            attempts: item.attempts + 1,
          });
          return;
        case "image-saved": {
          finished++;
          Object.assign(item, succeededFields(now));
          const { type: _type, itemId, ...saved } = event;
          images.push({
            id: itemId,
            itemId,
            batchId: id,
            ...saved,
            width: saved.width ?? null,
            height: saved.height ?? null,
            createdAt: now,
          });
          return;
        }
        case "item-failed":
          finished++;
          Object.assign(item, failedFields(event, now));
          return;
        case "usage": {
          // One per attempt: a retried request is billed again.
          const cost = costFromUsage(item.model, event);
          item.promptTokens = (item.promptTokens ?? 0) + event.promptTokens;
          item.outputTokens = (item.outputTokens ?? 0) + event.outputTokens;
          item.imageTokens = (item.imageTokens ?? 0) + event.imageTokens;
          item.thoughtTokens = (item.thoughtTokens ?? 0) + event.thoughtTokens;
          if (cost !== null) {
            item.costUsd = (item.costUsd ?? 0) + cost;
            batch.actualCostUsd += cost;
          }
          return;
        }
      }
    },
    progress: () => ({
      finished,
      total: items.length,
      // The image's file name without extension, so a line names its file.
      label: (itemId) => {
        const item = byId.get(itemId);
        return item ? imageStem(item.position, item.imageIndex) : itemId;
      },
    }),
    finish(end) {
      const { openItemsBecome, message } = afterRun(end);
      for (const item of items) {
        if (openItemsBecome && IN_RUN.includes(item.status)) {
          item.status = openItemsBecome;
        }
      }
      const statuses = countStatuses(items);
      const counts = batchCounts(statuses);
      Object.assign(batch, {
        status: batchStatusFrom(statuses),
        statusMessage: message,
        succeededCount: counts.succeeded,
        failedCount: counts.failed,
        blockedCount: counts.blocked,
        updatedAt: new Date(),
      });
      return buildManifest(
        batch,
        items,
        images,
        "BatchGen CLI",
        plan.references,
      );
    },
  };
}
