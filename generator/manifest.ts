/**
 * Builds the CLI's `manifest.json` from the protocol events of a run. The
 * manifest holds prompts, settings, results and usage — never the key (K1).
 */
import type { FailureKind, GeneratorEvent, Job } from "../core/protocol.ts";
import type { Usage } from "../core/cost.ts";
import { imageStem } from "../lib/storage.ts";

/** One image slot (prompt × image index) of the manifest. */
export interface ManifestItem {
  position: number;
  imageIndex: number;
  prompt: string;
  status: "succeeded" | "failed" | "blocked" | "interrupted";
  file?: string;
  mimeType?: string;
  bytes?: number;
  sha256?: string;
  width?: number;
  height?: number;
  errorKind?: FailureKind;
  errorMessage?: string;
  usage?: Usage;
}

/** The whole manifest document. */
export interface Manifest {
  generator: "BatchGen CLI";
  createdAt: string;
  model: string;
  settings: {
    aspectRatio: string;
    imageSize: string | null;
    imagesPerPrompt: number;
    concurrency: number;
  };
  items: ManifestItem[];
  /** `failed` counts every item without an image (failed, blocked, interrupted). */
  counts: { succeeded: number; failed: number };
}

/** Collects events; `build()` gives the manifest at any moment. */
export interface ManifestBuilder {
  record(event: GeneratorEvent): void;
  progress(): {
    finished: number;
    total: number;
    label: (id: string) => string;
  };
  build(): Manifest;
}

/** Starts a manifest for `job`; `createdAt` is now. */
export function createManifestBuilder(
  job: Job,
  extra: { imagesPerPrompt: number },
): ManifestBuilder {
  const createdAt = new Date().toISOString();
  const items = new Map<string, ManifestItem>();
  for (const item of job.items) {
    items.set(item.itemId, {
      position: item.position,
      imageIndex: item.imageIndex,
      prompt: item.prompt,
      status: "interrupted",
    });
  }
  let finished = 0;
  let stop: { kind: FailureKind; message: string } | undefined;

  function label(itemId: string): string {
    const item = items.get(itemId);
    // The image's file name without extension, so a line names its file.
    return item ? imageStem(item.position, item.imageIndex) : itemId;
  }

  return {
    record(event) {
      if (event.type === "batch-stopped") stop = event;
      if (!("itemId" in event)) return;
      const item = items.get(event.itemId);
      if (!item) return;
      if (event.type === "usage") {
        const { type: _type, itemId: _id, ...usage } = event;
        item.usage = usage;
      } else if (event.type === "image-saved") {
        finished++;
        const { type: _type, itemId: _id, fileName, ...file } = event;
        Object.assign(item, { status: "succeeded", file: fileName, ...file });
      } else if (event.type === "item-failed") {
        finished++;
        item.status = event.kind === "blocked" ? "blocked" : "failed";
        item.errorKind = event.kind;
        item.errorMessage = event.message;
      }
    },
    progress: () => ({ finished, total: items.size, label }),
    build() {
      const list = [...items.values()].map((item) =>
        ordered(
          item.status === "interrupted" && stop
            ? { ...item, errorKind: stop.kind, errorMessage: stop.message }
            : item,
        )
      ).sort((a, b) => a.position - b.position || a.imageIndex - b.imageIndex);
      const succeeded = list.filter((i) => i.status === "succeeded").length;
      return {
        generator: "BatchGen CLI",
        createdAt,
        model: job.model,
        settings: {
          aspectRatio: job.aspectRatio,
          imageSize: job.imageSize ?? null,
          imagesPerPrompt: extra.imagesPerPrompt,
          concurrency: job.concurrency,
        },
        items: list,
        counts: { succeeded, failed: list.length - succeeded },
      };
    },
  };
}

const KEY_ORDER = [
  "position",
  "imageIndex",
  "prompt",
  "status",
  "file",
  "mimeType",
  "bytes",
  "sha256",
  "width",
  "height",
  "errorKind",
  "errorMessage",
  "usage",
] as const satisfies readonly (keyof ManifestItem)[];

// Same key order for every item, whatever order its events came in.
function ordered(item: ManifestItem): ManifestItem {
  const out: Record<string, unknown> = {};
  for (const key of KEY_ORDER) {
    if (item[key] !== undefined) out[key] = item[key];
  }
  return out as unknown as ManifestItem;
}
