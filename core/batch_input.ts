/**
 * The one definition of a valid new batch, shared by the form, the JSON API
 * and the CLI: the batch's defaults (model, ratio, size, counts), its rows
 * (plain prompts, or rows with their own settings), and how to expand them
 * (templates, reference images, a settings matrix). All three edges accept
 * and refuse the same input with the same messages. Expansion and the limits
 * that apply after it live in core/batch_plan.ts.
 */
import { z } from "zod";
import { createScrubber, looksLikeApiKey } from "./scrub.ts";
import { BUDGET_MESSAGES } from "./budget.ts";
import { DEFAULTS, LIMITS } from "./limits.ts";
import { findModel, KNOWN_MODELS, sizeChoices } from "./catalog.ts";
import { BATCH_MODES, type Matrix } from "./records.ts";
import { refuse, type Result } from "./result.ts";
import { type RowInput, rowProblems } from "./batch_row.ts";

export { type RowInput } from "./batch_row.ts";

/** Why a prompt or title holding a key is refused (it never repeats the key). */
export const KEY_IN_BATCH_MESSAGE =
  "This looks like an API key. A key goes only where BatchGen asks for it (the key field at the top of the page, the x-goog-api-key header, or GEMINI_API_KEY for the CLI), never into a prompt or a title.";

const modelIds = KNOWN_MODELS.map((m) => m.id);
const CONCURRENCY_RANGE = `Parallel requests: 1 to ${LIMITS.concurrency}.`;
const COUNT_MESSAGE = "Images per prompt must be a whole number.";

const promptSchema = z.string({ error: "Each prompt must be text." });
const modelSchema = z.string({ error: "Choose a model." }).transform((id) =>
  id.replace(/^models\//, "")
);
const idList = (what: string) =>
  z.array(z.string({ error: `${what}: a list of texts expected.` }), {
    error: `${what}: a list of texts expected.`,
  });

export const batchInputSchema = z.object({
  title: z.string({ error: "Title: text expected." }).trim().max(
    LIMITS.titleChars,
    `Title: at most ${LIMITS.titleChars} characters.`,
  ).default(""),
  prompts: z.array(promptSchema, {
    error: "Prompts must be a list of texts.",
  }).optional(),
  rows: z.array(z.unknown(), { error: "Rows must be a list of objects." })
    .optional(),
  // Google names models `models/<id>`; either form is accepted.
  model: modelSchema.refine((id) => modelIds.includes(id), {
    message: `Unknown model. Choose one of: ${modelIds.join(", ")}.`,
  }),
  aspectRatio: z.string({ error: "Choose an aspect ratio." }).default(
    DEFAULTS.aspectRatio,
  ),
  imageSize: z.string({ error: "Choose an image size." }).default(""),
  imagesPerPrompt: z.coerce.number({ error: COUNT_MESSAGE }).int(COUNT_MESSAGE)
    .min(1, "At least 1 image per prompt.").max(
      LIMITS.imagesPerPrompt,
      `At most ${LIMITS.imagesPerPrompt} images per prompt.`,
    ).default(DEFAULTS.imagesPerPrompt),
  // Optional: the server's BATCHGEN_CONCURRENCY applies when left out.
  concurrency: z.coerce.number({ error: CONCURRENCY_RANGE }).int(
    CONCURRENCY_RANGE,
  ).min(1, CONCURRENCY_RANGE).max(LIMITS.concurrency, CONCURRENCY_RANGE)
    .optional(),
  budgetUsd: z.coerce.number({ error: BUDGET_MESSAGES.notANumber })
    .min(0, BUDGET_MESSAGES.negative).max(
      LIMITS.budgetUsd,
      BUDGET_MESSAGES.tooHigh,
    ).optional(),
  /** Reference images (ids, or names uploaded with the form) for every row. */
  references: idList("References").max(
    LIMITS.referencesPerUpload,
    `References: at most ${LIMITS.referencesPerUpload}.`,
  ).default([]),
  eachReference: z.boolean({ error: "eachReference: true or false." })
    .default(false),
  expandTemplates: z.boolean({ error: "expandTemplates: true or false." })
    .default(false),
  wildcards: z.record(
    z.string(),
    z.array(z.string(), { error: "Wildcards: each a list of texts." }).max(
      LIMITS.wildcardValues,
      `Wildcards: at most ${LIMITS.wildcardValues} values in a list.`,
    ),
    { error: "Wildcards: an object of lists expected." },
  ).refine((lists) => Object.keys(lists).length <= LIMITS.wildcardLists, {
    message: `Wildcards: at most ${LIMITS.wildcardLists} lists.`,
  }).default({}),
  sample: z.object({
    count: z.coerce.number().int().min(1).max(LIMITS.rowsPerBatch),
    seed: z.coerce.number().int().min(0).max(2 ** 32 - 1).default(1),
  }, {
    error:
      `Sample: { count: 1 to ${LIMITS.rowsPerBatch}, seed: a whole number }.`,
  }).optional(),
  matrix: z.object({
    model: z.array(modelSchema).min(1).optional(),
    aspectRatio: z.array(z.string()).min(1).optional(),
    imageSize: z.array(z.string()).min(1).optional(),
  }, { error: "Matrix: { model?, aspectRatio?, imageSize? } lists." })
    .optional(),
  dryRun: z.boolean({ error: "dryRun: true or false." }).default(false),
  mode: z.enum(BATCH_MODES, {
    error:
      'Mode: "standard" (now) or "batch" (Google\'s Batch API, about half the price, within 24 h).',
  }).default("standard"),
});

/** A batch as asked for, before its rows are expanded (core/batch_plan.ts). */
export type BatchInput =
  & Omit<z.infer<typeof batchInputSchema>, "prompts" | "rows" | "matrix">
  & {
    /** The rows, numbered; plain prompts are rows with only a prompt. */
    rows: RowInput[];
    matrix?: Matrix;
  };

/**
 * Indexes of the lines that hold a key-shaped token. A key wrapped by the
 * prompt box arrives as two lines, so each line is also read joined with the
 * next, and both halves count.
 */
export function keyLines(lines: readonly string[]): number[] {
  const found = new Set<number>();
  const alone = lines.map(looksLikeApiKey);
  lines.forEach((line, i) => {
    if (alone[i]) found.add(i);
    const next = lines[i + 1];
    // Only a token that needs both lines is a wrapped one.
    if (
      next !== undefined && !alone[i] && !alone[i + 1] &&
      looksLikeApiKey(line + next)
    ) found.add(i).add(i + 1);
  });
  return [...found].sort((a, b) => a - b);
}

/**
 * The text of a refused form without its key-shaped lines, to show again:
 * a refused key is never sent back to the browser (K2).
 */
export function withoutKeyLines(text: string): string {
  const lines = text.split(/\r?\n/);
  const trimmed = lines.map((line) => line.trim());
  const drop = new Set(keyLines(trimmed));
  if (drop.size === 0) return text;
  return lines.filter((_, i) => !drop.has(i)).join("\n");
}

/**
 * Validates raw input from any edge. Errors are keyed by field, one message
 * each; the first is the problem's message. `secrets` (the CLI knows the key
 * it runs with) also refuses prompts that hold any of them, whatever shape.
 */
export function parseBatchInput(
  raw: unknown,
  { secrets = [] }: { secrets?: readonly string[] } = {},
): Result<BatchInput> {
  const result = batchInputSchema.safeParse(raw);
  const errors: Record<string, string> = {};
  if (!result.success) {
    for (const issue of result.error.issues) {
      const field = String(issue.path[0] ?? "form");
      errors[field] ??= issue.message;
    }
  }
  // Rows are read even when other fields failed: all problems at once.
  const body = raw && typeof raw === "object"
    ? raw as Record<string, unknown>
    : {};
  const { rows, field, problem } = readRows(body.prompts, body.rows);
  if (problem) errors[field] ??= problem;
  if (!result.success || Object.keys(errors).length > 0) {
    return refused(errors);
  }
  const { prompts: _, rows: _rows, matrix, ...input } = result.data;
  const filled = rows;
  // A key pasted into the wrong box would be stored and sent to Google as
  // prompt text (K1): refuse it and point to the key field.
  const { scrub } = createScrubber(secrets);
  const holdsKey = (text: string) =>
    looksLikeApiKey(text) || (secrets.length > 0 && scrub(text) !== text);
  if (
    keyLines(filled.map((r) => r.prompt)).length > 0 ||
    filled.some((r) => holdsKey(r.prompt) || holdsKey(r.name ?? ""))
  ) {
    errors[field] = KEY_IN_BATCH_MESSAGE;
  } else if (holdsKey(input.title)) errors.title = KEY_IN_BATCH_MESSAGE;
  const model = findModel(input.model);
  if (model && !model.aspectRatios.includes(input.aspectRatio)) {
    errors.aspectRatio = `${model.label} supports the aspect ratios ${
      model.aspectRatios.join(", ")
    }.`;
  }
  const sizes = model ? sizeChoices(model) : [];
  if (model && input.imageSize && !sizes.includes(input.imageSize)) {
    errors.imageSize = `${model.label} supports the image sizes ${
      sizes.join(", ")
    }.`;
  }
  const unknownModel = matrix?.model?.find((id) => !findModel(id));
  if (unknownModel) {
    errors.matrix = `Matrix: unknown model "${unknownModel.slice(0, 80)}".`;
  }
  if (Object.keys(errors).length > 0) return refused(errors);
  return { ok: true, value: { ...input, rows, matrix } };
}

/** The rows of `prompts` or `rows`, or the first problem with them. */
function readRows(
  prompts: unknown,
  rawRows: unknown,
): { rows: RowInput[]; field: "prompts" | "rows"; problem?: string } {
  const field = rawRows === undefined ? "prompts" : "rows";
  const rows: RowInput[] = [];
  if (prompts !== undefined && rawRows !== undefined) {
    return { rows, field, problem: "Send either prompts or rows, not both." };
  }
  if (Array.isArray(rawRows)) {
    const problems: string[] = [];
    rawRows.forEach((raw, i) => {
      const checked = rowProblems(raw, i + 1);
      if (checked.ok) rows.push(checked.value);
      else problems.push(checked.problem.message);
    });
    if (problems.length > 0) {
      return { rows, field, problem: problems.slice(0, 5).join(" ") };
    }
  } else if (Array.isArray(prompts)) {
    prompts.forEach((prompt, i) => {
      if (typeof prompt === "string") {
        rows.push({ row: i + 1, prompt: prompt.trim() });
      }
    });
    // Not text: the schema says so.
    if (rows.length < prompts.length) return { rows, field };
  } else if (prompts !== undefined || rawRows !== undefined) {
    // Not a list: the schema says so.
    return { rows, field };
  }
  const where = (r: RowInput) => field === "rows" ? `row ${r.row}: ` : "";
  const tooLong = rows.find((r) => r.prompt.length > LIMITS.promptChars);
  const empty = rows.find((r) => r.prompt === "");
  const problem = rows.length === 0
    ? "Write at least one prompt (one per line) or upload a file."
    : rows.length > LIMITS.promptsPerBatch
    ? `At most ${LIMITS.promptsPerBatch} prompts per batch.`
    : tooLong
    ? `${
      where(tooLong)
    }Each prompt can have at most ${LIMITS.promptChars} characters.`
    : empty
    ? (field === "rows"
      ? `row ${empty.row}: the prompt is empty.`
      : "Prompts cannot be empty.")
    : undefined;
  return { rows, field, problem };
}

function refused(errors: Record<string, string>): Result<never> {
  const first = Object.values(errors)[0] ?? "Invalid batch.";
  return refuse("invalid_input", first, { fields: errors });
}
