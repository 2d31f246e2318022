/**
 * How a batch's requests are split into jobs at Google's Batch API: by
 * model (a job has one), then cut at LIMITS.batchJobRows rows and
 * LIMITS.batchJobBytes bytes of JSONL; a job of at most
 * LIMITS.batchInlineRows rows goes inline, a larger one as an uploaded JSONL
 * file. Pure, so it is tested alone; the server (engine/batch_submit.ts)
 * and the CLI (generator/cli_batch_jobs.ts) both split with it.
 */
import { LIMITS } from "../core/limits.ts";
import { type BatchRequestRow, imageRequestBody } from "./batches.ts";
import type { ReferencePart } from "./parts.ts";
import { requestImageSize } from "../core/catalog.ts";

/** One request to place: its model and its row (key and body). */
export interface PlacedRequest {
  model: string;
  row: BatchRequestRow;
}

/** One job to create. */
export interface Chunk {
  model: string;
  rows: BatchRequestRow[];
  /** Bytes of its JSONL (one line per row, newline included). */
  bytes: number;
  /** Whether its rows go in the create request rather than a file. */
  inline: boolean;
}

/** The caps a split honours; LIMITS unless a test narrows them. */
export interface ChunkLimits {
  jobRows: number;
  jobBytes: number;
  inlineRows: number;
}

const DEFAULT_LIMITS: ChunkLimits = {
  jobRows: LIMITS.batchJobRows,
  jobBytes: LIMITS.batchJobBytes,
  inlineRows: LIMITS.batchInlineRows,
};

/**
 * Requests grouped by model, in order, each group cut at the caps. A
 * request over the byte cap alone still gets a job of its own: Google, not
 * BatchGen, is then the one to say whether it fits.
 */
export function chunkRequests(
  requests: readonly PlacedRequest[],
  limits: ChunkLimits = DEFAULT_LIMITS,
): Chunk[] {
  const chunks: Chunk[] = [];
  const open = new Map<string, Chunk>();
  const encoder = new TextEncoder();
  for (const { model, row } of requests) {
    const bytes = encoder.encode(JSON.stringify(row)).length + 1;
    let chunk = open.get(model);
    if (
      !chunk || chunk.rows.length >= limits.jobRows ||
      chunk.bytes + bytes > limits.jobBytes
    ) {
      chunk = { model, rows: [], bytes: 0, inline: true };
      open.set(model, chunk);
      chunks.push(chunk);
    }
    chunk.rows.push(row);
    chunk.bytes += bytes;
  }
  for (const chunk of chunks) {
    chunk.inline = chunk.rows.length <= limits.inlineRows;
  }
  return chunks;
}

/** What an item needs to become a request. */
export interface RequestItem {
  id: string;
  prompt: string;
  model: string;
  aspectRatio: string;
  imageSize: string;
  references: readonly string[];
}

/**
 * The items' requests (keyed by item id, each reference by its part) split
 * into jobs, the same way for the server and the CLI.
 */
export function itemChunks(
  items: readonly RequestItem[],
  parts: ReadonlyMap<string, ReferencePart>,
): Chunk[] {
  return chunkRequests(items.map((item) => ({
    model: item.model,
    row: {
      key: item.id,
      request: imageRequestBody({
        prompt: item.prompt,
        aspectRatio: item.aspectRatio,
        imageSize: requestImageSize(item.model, item.imageSize),
        references: item.references.flatMap((id) => parts.get(id) ?? []),
      }),
    },
  })));
}
