/**
 * `deno task generate --batch-mode`: the planned batch goes to Google's
 * Batch API as jobs instead of being generated now (cli_batch_jobs.ts), as
 * the server submits one. The jobs' names go into the output folder's state
 * file with the batch's records (never the key), and the manifest says each
 * image is `submitted`; a later `--sync` collects them.
 */
import type { BatchPlan } from "../core/batch_plan.ts";
import { estimatedUsd } from "../core/batch_plan.ts";
import { costLabel, formatUsd } from "../core/cost.ts";
import { MANIFEST_NAME } from "../core/files.ts";
import { scrubError } from "../core/scrub.ts";
import { createJobs, removeFiles, uploadReferences } from "./cli_batch_jobs.ts";
import { manifestOf, settle } from "./cli_batch_records.ts";
import {
  type CliBatchState,
  readBatchState,
  STATE_NAME,
  writeBatchState,
  writeJson,
} from "./cli_batch_state.ts";
import { createCliRecords } from "./cli_records.ts";
import type { LineWriter } from "./process_io.ts";

/** What a submission needs: the plan, and where its files are. */
export interface SubmitInput {
  plan: BatchPlan;
  referencePaths: ReadonlyMap<string, string>;
  outDir: string;
  apiKey: string;
  baseUrl: string | undefined;
  stderr: LineWriter;
  signal: AbortSignal;
}

/** Submits the batch; resolves with the exit code (0, 1 or 2). */
export async function submitCliBatch(input: SubmitInput): Promise<number> {
  const { plan, outDir, apiKey, stderr, signal } = input;
  const secrets = [apiKey];
  const estimate = estimatedUsd(plan);
  // Batch mode sends everything at once: a cap can only be honoured now.
  if (plan.budgetUsd !== null && (estimate ?? Infinity) > plan.budgetUsd) {
    stderr.write(
      `Not submitted: Batch mode sends every image at once, and their estimate (${
        formatUsd(estimate)
      }) is above your budget cap (${
        formatUsd(plan.budgetUsd)
      }). Raise --budget-usd and submit again.`,
    );
    return 2;
  }
  const before = await readBatchState(outDir);
  if (
    before.ok
      ? before.state.jobs.some((job) => !job.collected)
      : !before.missing
  ) {
    // Overwriting it would lose track of jobs being paid for at Google.
    stderr.write(
      `${outDir} holds jobs still at Google, or a ${STATE_NAME} that cannot be read. Collect them with --sync ${outDir}, or submit into another folder.`,
    );
    return 2;
  }
  try {
    await Deno.mkdir(outDir, { recursive: true });
  } catch (error) {
    stderr.write(`Cannot create ${outDir}: ${scrubError(error, secrets)}`);
    return 2;
  }

  const records = createCliRecords(plan, `cli-${Date.now()}`);
  const state: CliBatchState = {
    batch: records.batch,
    items: records.items,
    images: [],
    references: plan.references.map((r) => ({ ...r })),
    jobs: [],
    notSubmitted: null,
  };
  const call = { apiKey, baseUrl: input.baseUrl };
  const references = await uploadReferences(
    call,
    plan,
    input.referencePaths,
    signal,
  );
  if (!references.ok) {
    stderr.write(`Nothing submitted: ${references.message}`);
    return 1;
  }
  const problem = await createJobs(
    call,
    state,
    references,
    signal,
    (job, chunk) =>
      stderr.write(
        `Submitted ${job.name} (${job.model}, ${job.requestCount} image${
          job.requestCount === 1 ? "" : "s"
        }, ${chunk.inline ? "inline" : "JSONL file"})`,
      ),
  );
  if (state.jobs.length === 0) {
    await removeFiles(call, references.files);
    stderr.write(`Nothing submitted: ${problem}`);
    return 1;
  }
  if (problem) {
    // The CLI has no Resume: what never reached Google says so.
    for (const item of state.items) {
      if (item.status === "pending") item.status = "interrupted";
    }
    state.notSubmitted = `Not every image was submitted: ${problem}`;
  }
  settle(
    state,
    state.notSubmitted ??
      `Submitted to Google's Batch API in ${state.jobs.length} job${
        state.jobs.length === 1 ? "" : "s"
      }: results within 24 hours, usually sooner. Collect them with: deno task generate --sync ${outDir}`,
  );
  const statePath = await writeBatchState(outDir, state, secrets);
  const manifest = await writeJson(
    outDir,
    MANIFEST_NAME,
    manifestOf(state),
    secrets,
  );
  const submittedCount = state.items.filter((i) => i.status === "submitted")
    .length;
  stderr.write(
    [
      `${submittedCount} image${
        submittedCount === 1 ? "" : "s"
      } in ${state.jobs.length} job${
        state.jobs.length === 1 ? "" : "s"
      } at Google's Batch API. Estimate at the Batch price: ${
        formatUsd(estimate)
      } (${costLabel(plan.estimate.priceListDate)}).`,
      ...(problem ? [state.notSubmitted!] : []),
      `Jobs: ${statePath}  Manifest: ${manifest}`,
      `Collect the results later (within 24 hours, usually sooner) with: deno task generate --sync ${outDir}`,
    ].join("\n"),
  );
  return problem ? 1 : 0;
}
