/**
 * The Google side of `--batch-mode`, as the server does it
 * (engine/batch_submit.ts): each reference image uploaded once through the
 * Files API, each item's request built by the live path's
 * `imageRequestBody`, the requests split into jobs (cli_batch_chunks.ts),
 * a large job's rows uploaded as a JSONL file, and the jobs created.
 *
 * Ctrl-C is honoured between these steps, never within one: a job Google
 * created while its answer was being cut off would be billed yet untracked.
 */
import { createChunkJob } from "../gemini/batch_flow.ts";
import type { BatchPlan } from "../core/batch_plan.ts";
import type { GoogleJob } from "../core/records.ts";
import { deleteFile, uploadFile } from "../gemini/files.ts";
import { fileReference, type ReferencePart } from "../gemini/parts.ts";
import { type Chunk, itemChunks } from "../gemini/batch_chunks.ts";
import type { CliBatchState } from "./cli_batch_state.ts";

/** The key and where Google is. */
export interface GoogleCall {
  apiKey: string;
  baseUrl: string | undefined;
}

/** One upload or create; a 100 MB JSONL file on a slow line fits. */
const STEP_TIMEOUT_MS = 10 * 60_000;
const step = () => AbortSignal.timeout(STEP_TIMEOUT_MS);

/** Uploaded references by id, or why they could not all go up. */
export type References =
  | { ok: true; files: string[]; parts: Map<string, ReferencePart> }
  | { ok: false; message: string };

/** Uploads each reference of the plan once; on failure removes them again. */
export async function uploadReferences(
  call: GoogleCall,
  plan: BatchPlan,
  paths: ReadonlyMap<string, string>,
  signal: AbortSignal,
): Promise<References> {
  const files: string[] = [];
  const parts = new Map<string, ReferencePart>();
  for (const ref of plan.references) {
    if (signal.aborted) {
      await removeFiles(call, files);
      return { ok: false, message: "interrupted." };
    }
    const sent = await uploadFile({
      ...call,
      bytes: await Deno.readFile(paths.get(ref.sha256)!),
      mimeType: ref.mimeType,
      displayName: `batchgen-ref-${ref.sha256.slice(0, 16)}`,
      signal: step(),
    });
    if (!sent.ok) {
      await removeFiles(call, files);
      return {
        ok: false,
        message:
          `could not upload ${ref.name} to Google: ${sent.failure.message}`,
      };
    }
    files.push(sent.file.name);
    parts.set(ref.id, fileReference(sent.file));
  }
  return { ok: true, files, parts };
}

/**
 * Creates the jobs for the state's pending items, in order, adding each to
 * `state.jobs` (and its items becoming `submitted`) as Google confirms it.
 * Stops at the first refusal or at Ctrl-C; resolves with why, or null.
 */
export async function createJobs(
  call: GoogleCall,
  state: CliBatchState,
  references: { files: string[]; parts: Map<string, ReferencePart> },
  signal: AbortSignal,
  onJob: (job: GoogleJob, chunk: Chunk) => void,
): Promise<string | null> {
  const chunks = itemChunks(state.items, references.parts);
  for (const [n, chunk] of chunks.entries()) {
    if (signal.aborted) return "interrupted.";
    const displayName = `batchgen-${state.batch.id}-${n + 1}`;
    const created = await createChunkJob(
      { ...call, signal: step() },
      chunk,
      displayName,
    );
    if (!created.ok) {
      return created.stage === "upload"
        ? `could not upload job ${n + 1}: ${created.failure.message}`
        : `Google refused job ${
          n + 1
        } of ${chunks.length}: ${created.failure.message}`;
    }
    const now = new Date();
    const job: GoogleJob = {
      id: String(n + 1),
      batchId: state.batch.id,
      name: created.job.name,
      model: chunk.model,
      state: created.job.state,
      requestCount: chunk.rows.length,
      succeededCount: 0,
      failedCount: 0,
      itemIds: chunk.rows.map((row) => row.key),
      // References serve every job: each lists them, and they go when the
      // last job is collected (as on the server).
      uploadedFiles: [...created.uploaded, ...references.files],
      collected: false,
      error: null,
      createdAt: now,
      updatedAt: now,
    };
    state.jobs.push(job);
    const ids = new Set(job.itemIds);
    for (const item of state.items) {
      if (ids.has(item.id)) {
        Object.assign(item, { status: "submitted", startedAt: now });
      }
    }
    onJob(job, chunk);
  }
  return null;
}

/** Deletes uploaded files; never throws (a file left behind expires in 48 h). */
export async function removeFiles(
  call: GoogleCall,
  names: readonly string[],
): Promise<void> {
  await Promise.allSettled(
    names.map((name) =>
      deleteFile({ ...call, name, signal: AbortSignal.timeout(10_000) })
    ),
  );
}
