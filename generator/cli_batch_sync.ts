/**
 * `deno task generate --sync DIR`: checks each job of the folder's state
 * file at Google and, for a job that has ended, saves every result into DIR
 * exactly as a run does (lib/save_image.ts: same names, atomic writes),
 * priced at the Batch API's rate, as the server's sync does
 * (engine/batch_sync.ts). A job is marked collected only after all its
 * results are recorded, and a result is recorded only for an item still
 * `submitted`, so a sync cut short is simply done again by the next one and
 * no image is recorded (or billed in the manifest) twice. The state file is
 * rewritten after each job, so even a crash loses at most one job's records
 * (whose images are then saved again under the same names, not twice).
 */
import { readJobResults } from "../gemini/batch_flow.ts";
import { batchItemResult } from "../core/batch_results.ts";
import { imageStem, MANIFEST_NAME } from "../core/files.ts";
import type { Item } from "../core/records.ts";
import { scrubError } from "../core/scrub.ts";
import { deleteFile } from "../gemini/files.ts";
import {
  decodeImage,
  type ParsedOutcome as Outcome,
} from "../gemini/generate.ts";
import { type BatchResult, getBatchJob } from "../gemini/batches.ts";
import { saveImage } from "../lib/save_image.ts";
import {
  ENDED,
  type JobResult,
  manifestOf,
  recordJobResult,
  settle,
  syncMessage,
  unanswered,
} from "./cli_batch_records.ts";
import {
  type CliBatchState,
  writeBatchState,
  writeJson,
} from "./cli_batch_state.ts";
import type { LineWriter } from "./process_io.ts";

/** Exit code of a sync that found jobs still running at Google. */
export const STILL_AT_GOOGLE = 3;

/** Problems that may pass by themselves: syncing again is the remedy. */
const TRANSIENT = new Set(["network", "timeout", "server", "rate-limited"]);

/** What a sync needs: the folder, its state, the key and where Google is. */
export interface SyncInput {
  outDir: string;
  state: CliBatchState;
  apiKey: string;
  baseUrl: string | undefined;
  stderr: LineWriter;
  signal: AbortSignal;
}

/** Syncs the folder's jobs; resolves with the exit code (0, 1 or 3). */
export async function syncCliBatch(input: SyncInput): Promise<number> {
  const { outDir, state, apiKey, stderr, signal } = input;
  const base = { apiKey, baseUrl: input.baseUrl, signal };
  const secrets = [apiKey];
  const problems: { kind: string; message: string }[] = [];
  const byId = new Map(state.items.map((item) => [item.id, item]));
  const open = new Set(
    state.items.filter((i) => i.status === "submitted").map((i) => i.id),
  );
  let finished = state.items.length - open.size -
    state.items.filter((i) => i.status === "pending").length;
  const record = (item: Item, result: JobResult) => {
    if (!recordJobResult(state, item.id, result)) return;
    open.delete(item.id);
    stderr.write(`[${++finished}/${state.items.length}] ${describe(item)}`);
  };
  const describe = (item: Item) => {
    const image = state.images.find((i) => i.itemId === item.id);
    if (item.status === "succeeded" && image) {
      return `saved ${image.fileName}` +
        (image.width && image.height
          ? ` (${image.width}×${image.height})`
          : "");
    }
    const label = imageStem(item.position, item.imageIndex);
    return item.status === "cancelled"
      ? `${label} cancelled at Google`
      : `${label} failed (${item.errorKind}): ${item.errorMessage}`;
  };

  try {
    for (const job of state.jobs) {
      if (job.collected || signal.aborted) continue;
      const checked = await getBatchJob({ ...base, name: job.name });
      if (!checked.ok) {
        const { kind, message } = checked.failure;
        problems.push({ kind, message: `${job.name}: ${message}` });
        continue;
      }
      const info = checked.job;
      Object.assign(job, {
        state: info.state,
        succeededCount: info.succeeded,
        failedCount: info.failed,
        error: info.error ?? null,
        updatedAt: new Date(),
      });
      if (!ENDED.includes(info.state)) {
        stderr.write(
          `${job.name}: ${info.state} at Google (${
            info.succeeded + info.failed
          } of ${job.requestCount} done)`,
        );
        continue;
      }
      stderr.write(`${job.name}: ${info.state}; collecting its results`);
      const mine = new Set(job.itemIds);
      const save = async ({ key, outcome }: BatchResult) => {
        const item = byId.get(key);
        if (!item || !mine.has(key) || !open.has(key)) return;
        record(item, await resultOf(outcome, item, outDir, apiKey));
      };
      const read = await readJobResults(base, checked, save);
      if (!read.complete) {
        problems.push({
          kind: read.failure.kind,
          message:
            `${job.name}: the results download stopped (${read.failure.message}); syncing again continues it.`,
        });
        continue;
      }
      // What Google never answered gets a reason; the job is then done with.
      for (const id of job.itemIds) {
        const item = byId.get(id);
        if (item && open.has(id)) {
          record(item, unanswered(info.state, job.error));
        }
      }
      job.collected = true;
      // A checkpoint: a crash later loses nothing this job recorded.
      await writeBatchState(outDir, state, secrets);
    }
    if (state.jobs.every((j) => j.collected)) await removeUploads(input);
  } finally {
    settle(state, syncMessage(state, problems.map((p) => p.message), outDir));
    await writeBatchState(outDir, state, secrets);
  }
  const manifest = await writeJson(
    outDir,
    MANIFEST_NAME,
    manifestOf(state),
    secrets,
  );
  for (const problem of problems) stderr.write(problem.message);
  const waiting = state.jobs.filter((j) => !j.collected);
  const { succeededCount, failedCount, itemCount } = state.batch;
  stderr.write(
    `Sync: ${succeededCount} saved, ${failedCount} failed or blocked, ${open.size} still at Google (${waiting.length} of ${state.jobs.length} job${
      state.jobs.length === 1 ? "" : "s"
    } waiting). Manifest: ${manifest}`,
  );
  if (waiting.length > 0) {
    return problems.every((p) => TRANSIENT.has(p.kind)) ? STILL_AT_GOOGLE : 1;
  }
  return succeededCount === itemCount ? 0 : 1;
}

/** Once every job is collected, the files uploaded for them go. */
async function removeUploads({ state, apiKey, baseUrl }: SyncInput) {
  const files = [...new Set(state.jobs.flatMap((j) => j.uploadedFiles))];
  await Promise.allSettled(
    files.map((name) =>
      deleteFile({ apiKey, baseUrl, name, signal: AbortSignal.timeout(10_000) })
    ),
  );
  // Deleting is tidying up: a file left behind expires at Google in 48 h.
  for (const job of state.jobs) job.uploadedFiles = [];
}

/** One result as a record: the image saved, or why there is none. */
function resultOf(
  outcome: Outcome,
  item: Item,
  dir: string,
  apiKey: string,
): Promise<JobResult> {
  return batchItemResult(outcome, item.model, () => {
    if (!outcome.ok) throw new TypeError("no image");
    return saveImage(dir, {
      itemId: item.id,
      position: item.position,
      imageIndex: item.imageIndex,
      prompt: item.prompt,
    }, { bytes: decodeImage(outcome.image), mimeType: outcome.image.mimeType });
  }, (error) => scrubError(error, [apiKey]));
}
