/**
 * What a valid input becomes: the batch's rows, expanded in one order —
 * templates, then one row per reference image ("each image"), then the
 * settings matrix — each with the settings it runs with, checked against its
 * model, and the estimate. Limits apply after expansion, before anything is
 * stored or estimated.
 */
import { LIMITS } from "./limits.ts";
import { imageSizeOrDefault } from "./catalog.ts";
import { atModePrice, estimateRows, type RowsEstimate } from "./cost.ts";
import type { BatchMode, BatchSettings } from "./records.ts";
import { refuse, type Result } from "./result.ts";
import { looksLikeApiKey } from "./scrub.ts";
import {
  type BatchInput,
  KEY_IN_BATCH_MESSAGE,
  parseBatchInput,
} from "./batch_input.ts";
import { nameStem } from "./batch_row.ts";
import {
  type Draft,
  finishRow,
  matrixCells,
  MAX_MESSAGES,
  type PlannedRow,
  type ReferenceInfo,
  type ReferenceLookup,
  uniqueNames,
} from "./row_settings.ts";
import {
  expandTemplate,
  hasTemplateSyntax,
  sampleTemplate,
} from "./templates.ts";

export type { PlannedRow, ReferenceInfo, ReferenceLookup };

/** A planned batch, ready to store (or to preview). */
export interface BatchPlan {
  title: string;
  /** The rows' model when they share one, else the batch's default. */
  model: string;
  settings: BatchSettings;
  rows: PlannedRow[];
  /** Every reference image the rows use, once. */
  references: ReferenceInfo[];
  budgetUsd: number | null;
  /** How it runs: now, or as jobs at Google's Batch API. */
  mode: BatchMode;
  /** At the standard price, whatever the mode (see `estimatedUsd`). */
  estimate: RowsEstimate;
}

/** A plan's estimated total at the price of its mode. */
export function estimatedUsd(plan: Pick<BatchPlan, "mode" | "estimate">) {
  return atModePrice(plan.estimate.totalUsd, plan.mode);
}

/** One image to make: a row at a position, and which of its images. */
export interface ItemSlot {
  position: number;
  imageIndex: number;
}

/** Expands and checks the rows of valid input; refusals name the row. */
export function planBatch(
  input: BatchInput,
  options: { defaultConcurrency: number; references?: ReferenceLookup },
): Result<BatchPlan> {
  const lookup = options.references ?? (() => undefined);
  const problems = new Set<string>();
  const resolve = (ids: readonly string[], where: string) =>
    ids.flatMap((id) => {
      const found = lookup(id);
      if (!found) {
        problems.add(
          `${where}: no reference image "${
            id.slice(0, 80)
          }" (upload it first).`,
        );
      }
      return found ? [found] : [];
    });
  const shared = resolve(input.references, "References");
  if (input.eachReference && input.references.length === 0) {
    problems.add(
      "Each image: upload at least one reference image to apply the prompt to.",
    );
  }
  const names = new Map<string, number>();
  for (const row of input.rows) {
    if (row.name === undefined) continue;
    const stem = nameStem(row.name).toLowerCase();
    const first = names.get(stem);
    if (first !== undefined) {
      problems.add(
        `row ${row.row}: the name "${row.name}" is already used by row ${first}.`,
      );
    } else names.set(stem, row.row);
  }
  const matrix = matrixCells(input.matrix);
  const perRow = (input.eachReference ? shared.length : 1) * matrix.length;
  let drafts: Draft[] = [];
  for (const source of input.rows) {
    const own = resolve(source.references ?? [], `row ${source.row}`);
    const base = {
      source,
      references: input.eachReference ? own : [...shared, ...own],
      name: source.name ?? null,
      axis: null,
    };
    const expand = input.expandTemplates || input.sample !== undefined;
    if (!expand || !hasTemplateSyntax(source.prompt)) {
      drafts.push({
        ...base,
        prompt: source.prompt,
        template: null,
        choices: null,
      });
    } else {
      const room = Math.max(1, Math.floor(LIMITS.rowsPerBatch / perRow));
      const expanded = input.sample
        ? sampleTemplate(
          source.prompt,
          input.wildcards,
          input.sample.count,
          input.sample.seed + source.row,
        )
        : expandTemplate(source.prompt, input.wildcards, room);
      if (!expanded.ok) {
        problems.add(`row ${source.row}: ${expanded.problem.message}`);
        continue;
      }
      for (const e of expanded.value) {
        drafts.push({
          ...base,
          prompt: e.prompt,
          template: source.prompt,
          choices: e.choices,
        });
      }
    }
    if (drafts.length * perRow > LIMITS.rowsPerBatch) break;
  }
  const rowCount = drafts.length * perRow;
  if (rowCount > LIMITS.rowsPerBatch) {
    return refuse(
      "invalid_input",
      `The batch expands to more than ${LIMITS.rowsPerBatch} rows; narrow the templates, references or matrix.`,
      {
        fields: {
          prompts: `At most ${LIMITS.rowsPerBatch} rows after expansion.`,
        },
      },
    );
  }
  if (problems.size > 0) return refusedRows(problems);
  if (input.eachReference) {
    drafts = drafts.flatMap((d) =>
      shared.map((ref) => ({
        ...d,
        references: [ref, ...d.references],
        name: d.name ?? ref.name.replace(/\.[A-Za-z0-9]+$/, ""),
      }))
    );
  }
  drafts = drafts.flatMap((d) =>
    matrix.map((axis) => ({
      ...d,
      axis: Object.keys(axis).length ? axis : null,
    }))
  );
  const rows = drafts.map((d) => finishRow(d, input, problems));
  if (problems.size > 0) return refusedRows(problems);
  uniqueNames(rows);
  const items = rows.reduce((sum, r) => sum + r.images, 0);
  if (items > LIMITS.itemsPerBatch) {
    const message =
      `At most ${LIMITS.itemsPerBatch} images per batch (this one would make ${items}).`;
    return refuse("invalid_input", message, {
      fields: { imagesPerPrompt: message },
    });
  }
  const leaked = rows.find((r) =>
    r.template !== null && looksLikeApiKey(r.prompt)
  );
  if (leaked) {
    return refuse("invalid_input", KEY_IN_BATCH_MESSAGE, {
      fields: { prompts: KEY_IN_BATCH_MESSAGE },
    });
  }
  const used = new Map<string, ReferenceInfo>();
  for (const d of drafts) for (const r of d.references) used.set(r.id, r);
  const models = new Set(rows.map((r) => r.model));
  return {
    ok: true,
    value: {
      title: input.title || defaultTitle(input.rows.map((r) => r.prompt)),
      model: models.size === 1 ? [...models][0]! : input.model,
      settings: settingsOf(input, options.defaultConcurrency),
      rows,
      references: [...used.values()],
      budgetUsd: input.budgetUsd ?? null,
      mode: input.mode,
      estimate: estimateRows(rows.map((r) => ({
        model: r.model,
        imageSize: r.imageSize,
        promptChars: r.prompt.length,
        images: r.images,
        inputImages: r.references.length,
      }))),
    },
  };
}

/** Every image of a plan, in order: each row × each image index. */
export function itemSlots(
  plan: { rows: readonly PlannedRow[] },
): ItemSlot[] {
  return plan.rows.flatMap((row, position) =>
    Array.from(
      { length: row.images },
      (_, imageIndex) => ({ position, imageIndex }),
    )
  );
}

/** A default title from the first prompt. */
export function defaultTitle(prompts: readonly string[]): string {
  const first = prompts[0] ?? "Batch";
  const short = first.length > 60 ? `${first.slice(0, 57)}…` : first;
  return prompts.length > 1 ? `${short} (+${prompts.length - 1})` : short;
}

function settingsOf(
  input: BatchInput,
  defaultConcurrency: number,
): BatchSettings {
  return {
    aspectRatio: input.aspectRatio,
    imageSize: imageSizeOrDefault(input.model, input.imageSize),
    imagesPerPrompt: input.imagesPerPrompt,
    concurrency: input.concurrency ?? defaultConcurrency,
    ...(input.matrix && Object.keys(input.matrix).length
      ? { matrix: input.matrix }
      : {}),
    ...(input.expandTemplates ? { expandTemplates: true } : {}),
    ...(input.sample ? { sample: input.sample } : {}),
    ...(input.eachReference ? { eachReference: true } : {}),
  };
}

function refusedRows(problems: Set<string>): Result<never> {
  const list = [...problems].slice(0, MAX_MESSAGES);
  return refuse("invalid_input", list[0]!, {
    fields: { rows: list.join(" ") },
  });
}

/**
 * Reads raw input and plans it, in one step: what the form, the JSON API and
 * the CLI each call, so they accept and refuse alike.
 */
export function buildBatch(
  raw: unknown,
  options: {
    defaultConcurrency: number;
    references?: ReferenceLookup;
    secrets?: readonly string[];
  },
): Result<BatchPlan & { dryRun: boolean }> {
  const input = parseBatchInput(raw, { secrets: options.secrets });
  if (!input.ok) return input;
  const plan = planBatch(input.value, options);
  return plan.ok
    ? { ok: true, value: { ...plan.value, dryRun: input.value.dryRun } }
    : plan;
}

/** Rows of plain prompts that all share one model and its settings. */
export function plainRows(
  prompts: readonly string[],
  settings: {
    model: string;
    aspectRatio: string;
    imageSize: string;
    imagesPerPrompt: number;
  },
): PlannedRow[] {
  return prompts.map((prompt, i) => ({
    prompt,
    model: settings.model,
    aspectRatio: settings.aspectRatio,
    imageSize: settings.imageSize,
    images: settings.imagesPerPrompt,
    name: null,
    row: i + 1,
    template: null,
    choices: null,
    axis: null,
    references: [],
  }));
}
