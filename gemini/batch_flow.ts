/**
 * The two steps of Batch mode that talk to Google and are the same for the
 * server and the CLI, whatever each keeps its records in: creating one job
 * for a chunk of requests, and reading every result of an ended job.
 */
import type { Failure } from "./errors.ts";
import { deleteFile, uploadFile } from "./files.ts";
import type { Chunk } from "./batch_chunks.ts";
import {
  BATCH_INPUT_MIME_TYPE,
  type BatchInput,
  batchInputJsonl,
  type BatchJobInfo,
  type BatchResult,
  createBatchJob,
  readResultsFile,
} from "./batches.ts";

interface Call {
  apiKey: string;
  baseUrl?: string;
  signal?: AbortSignal;
}

/**
 * Creates the job of one chunk: inline when small, else from an uploaded
 * JSONL file (its results then come back as a file too). A file whose job
 * Google refuses is deleted again. `uploaded` lists what stays at Google.
 */
export async function createChunkJob(
  call: Call,
  chunk: Chunk,
  displayName: string,
): Promise<
  { ok: true; job: BatchJobInfo; uploaded: string[] } | {
    ok: false;
    failure: Failure;
    stage: "upload" | "create";
  }
> {
  let input: BatchInput = { rows: chunk.rows };
  const uploaded: string[] = [];
  if (!chunk.inline) {
    const file = await uploadFile({
      ...call,
      bytes: batchInputJsonl(chunk.rows),
      mimeType: BATCH_INPUT_MIME_TYPE,
      displayName,
    });
    if (!file.ok) return { ok: false, failure: file.failure, stage: "upload" };
    uploaded.push(file.file.name);
    input = { fileName: file.file.name };
  }
  const created = await createBatchJob({
    ...call,
    model: chunk.model,
    displayName,
    input,
  });
  if (!created.ok) {
    await Promise.allSettled(
      uploaded.map((name) =>
        deleteFile({ ...call, name, signal: AbortSignal.timeout(10_000) })
      ),
    );
    return { ok: false, failure: created.failure, stage: "create" };
  }
  return { ok: true, job: created.job, uploaded };
}

/**
 * Hands every result of an ended job to `onResult`: the inline ones from
 * its answer, else those of its results file, streamed. `complete: false`
 * when the download was cut short: the results before the cut were handed
 * on, and reading again later goes on from the start (callers skip what
 * they already saved).
 */
export async function readJobResults(
  call: Call,
  checked: { job: BatchJobInfo; inlineResults?: BatchResult[] },
  onResult: (result: BatchResult) => Promise<void>,
): Promise<{ complete: true } | { complete: false; failure: Failure }> {
  if (checked.inlineResults) {
    for (const result of checked.inlineResults) await onResult(result);
    return { complete: true };
  }
  const output = checked.job.output;
  if (output && "responsesFile" in output) {
    const read = await readResultsFile({
      ...call,
      name: output.responsesFile,
      onResult,
    });
    if (!read.ok) return { complete: false, failure: read.failure };
  }
  return { complete: true };
}
