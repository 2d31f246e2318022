/**
 * The CLI's input files, read into the raw batch the one validator checks
 * (core/batch_plan.ts), exactly as the JSON API checks a body: the prompts
 * file (plain prompts, or rows with their own settings), reference images
 * and wildcard lists. Nothing has been sent to Google when this refuses.
 */
import { basename } from "node:path";
import {
  type BatchPlan,
  buildBatch,
  estimatedUsd,
} from "../core/batch_plan.ts";
import { atModePrice, costLabel } from "../core/cost.ts";
import type { ReferenceInfo } from "../core/batch_plan.ts";
import { DEFAULTS } from "../core/limits.ts";
import { PromptFileError } from "../core/prompt_file.ts";
import { readTableFile } from "../core/table_file.ts";
import { readWildcardFile } from "../core/templates.ts";
import { refuse, type Result } from "../core/result.ts";
import { scrubError } from "../core/scrub.ts";
import { checkReferenceImage } from "../lib/reference_store.ts";
import type { CliOptions } from "./cli_args.ts";

/** A plan, and where each of its reference images is on disk. */
export interface CliPlan {
  plan: BatchPlan;
  referencePaths: Map<string, string>;
}

/** Reads every input file and plans the batch; refusals say which file. */
export async function planFromFiles(
  options: CliOptions,
  apiKey: string,
): Promise<Result<CliPlan>> {
  const cannot = (file: string, error: unknown, what = "file") =>
    refuse<never>(
      "invalid_input",
      `Cannot read ${what} ${file}: ${
        error instanceof PromptFileError
          ? error.message
          : scrubError(error, [apiKey])
      }`,
    );
  let rows: Record<string, unknown>[];
  try {
    rows = readTableFile({
      name: options.promptsFile,
      bytes: await Deno.readFile(options.promptsFile),
    }).map((row) =>
      Object.fromEntries(Object.entries(row).filter(([, v]) => v !== undefined))
    );
  } catch (error) {
    return cannot(options.promptsFile, error, "prompts file");
  }
  const references: ReferenceInfo[] = [];
  const referencePaths = new Map<string, string>();
  for (const path of options.referenceFiles) {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (error) {
      return cannot(path, error, "reference image");
    }
    const checked = await checkReferenceImage(basename(path), bytes);
    if (!checked.ok) return checked;
    const { name, mimeType, sha256 } = checked.value;
    const id = `ref-${sha256.slice(0, 24)}`;
    references.push({ id, name, mimeType, bytes: bytes.length, sha256 });
    referencePaths.set(sha256, path);
  }
  const wildcards: Record<string, string[]> = {};
  for (const path of options.wildcardFiles) {
    try {
      const read = readWildcardFile(basename(path), await Deno.readFile(path));
      if (!read.ok) {
        return refuse("invalid_input", `${path}: ${read.problem.message}`);
      }
      Object.assign(wildcards, read.value);
    } catch (error) {
      return cannot(path, error, "wildcard list");
    }
  }
  const planned = planCliBatch(
    { ...options.batch, wildcards },
    rows,
    [apiKey],
    references,
  );
  return planned.ok
    ? { ok: true, value: { plan: planned.value, referencePaths } }
    : planned;
}

/**
 * The CLI's batch: its options and rows checked by the one validator,
 * exactly as `POST /api/batches` checks a body with the same fields. Rows
 * that only hold a prompt go as `prompts`, as a script would send them.
 */
export function planCliBatch(
  batch: Record<string, unknown>,
  rows: readonly (string | Record<string, unknown>)[],
  secrets: readonly string[],
  references: readonly ReferenceInfo[] = [],
): Result<BatchPlan> {
  const byKey = new Map<string, ReferenceInfo>();
  for (const ref of references) byKey.set(ref.id, ref).set(ref.name, ref);
  const objects = rows.map((row, i) =>
    typeof row === "string" ? { row: i + 1, prompt: row } : row
  );
  const plain = objects.every((r) =>
    Object.keys(r).every((k) => k === "row" || k === "prompt")
  );
  const rowsNameReferences = objects.some((r) => r.references !== undefined);
  return buildBatch({
    ...batch,
    ...(plain ? { prompts: objects.map((r) => r.prompt) } : { rows: objects }),
    references: rowsNameReferences && !batch.eachReference
      ? []
      : references.map((r) => r.id),
  }, {
    defaultConcurrency: DEFAULTS.concurrency,
    references: (key) => byKey.get(key),
    secrets,
  });
}

/**
 * What `--dry-run` prints: the planned rows and the estimate, at the price
 * of the batch's mode (`--batch-mode`: the Batch API's).
 */
export function dryRunSummary(plan: BatchPlan) {
  return {
    title: plan.title,
    mode: plan.mode,
    itemCount: plan.estimate.images,
    rowCount: plan.rows.length,
    estimatedCostUsd: estimatedUsd(plan),
    costLabel: costLabel(plan.estimate.priceListDate),
    estimatedByModel: plan.estimate.byModel.map((m) => ({
      ...m,
      totalUsd: atModePrice(m.totalUsd, plan.mode),
    })),
    references: plan.references.map(({ name, sha256 }) => ({ name, sha256 })),
    rows: plan.rows.slice(0, 50),
  };
}
