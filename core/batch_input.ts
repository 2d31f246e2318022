/**
 * The one definition of a valid new batch, shared by the form, the JSON API
 * and the CLI: known model, a ratio and size that model supports, sane
 * counts, and no API key where a prompt or title belongs. All three accept
 * and refuse the same input with the same messages.
 */
import { z } from "zod";
import { createScrubber, looksLikeApiKey } from "./scrub.ts";
import { BUDGET_MESSAGES } from "./budget.ts";
import { DEFAULTS, LIMITS } from "./limits.ts";
import {
  findModel,
  imageSizeOrDefault,
  KNOWN_MODELS,
  sizeChoices,
} from "./catalog.ts";
import { type BatchEstimate, estimateBatch } from "./cost.ts";
import type { BatchSettings } from "./records.ts";
import { refuse, type Result } from "./result.ts";

/** Why a prompt or title holding a key is refused (it never repeats the key). */
export const KEY_IN_BATCH_MESSAGE =
  "This looks like an API key. A key goes only where BatchGen asks for it (the key field at the top of the page, the x-goog-api-key header, or GEMINI_API_KEY for the CLI), never into a prompt or a title.";

const modelIds = KNOWN_MODELS.map((m) => m.id);
const CONCURRENCY_RANGE = `Parallel requests: 1 to ${LIMITS.concurrency}.`;

export const batchInputSchema = z.object({
  title: z.string({ error: "Title: text expected." }).trim().max(
    LIMITS.titleChars,
    `Title: at most ${LIMITS.titleChars} characters.`,
  ).default(""),
  prompts: z.array(
    z.string({ error: "Each prompt must be text." }).trim().min(
      1,
      "Prompts cannot be empty.",
    ).max(
      LIMITS.promptChars,
      `Each prompt can have at most ${LIMITS.promptChars} characters.`,
    ),
    { error: "Prompts must be a list of texts." },
  ).min(1, "Write at least one prompt (one per line) or upload a file.").max(
    LIMITS.promptsPerBatch,
    `At most ${LIMITS.promptsPerBatch} prompts per batch.`,
  ),
  // Google names models `models/<id>`; either form is accepted.
  model: z.string({ error: "Choose a model." }).transform((id) =>
    id.replace(/^models\//, "")
  ).refine(
    (id) => modelIds.includes(id),
    {
      message: `Unknown model. Choose one of: ${modelIds.join(", ")}.`,
    },
  ),
  aspectRatio: z.string({ error: "Choose an aspect ratio." }).default(
    DEFAULTS.aspectRatio,
  ),
  imageSize: z.string({ error: "Choose an image size." }).default(""),
  imagesPerPrompt: z.coerce.number({
    error: "Images per prompt must be a whole number.",
  }).int(
    "Images per prompt must be a whole number.",
  )
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
}).superRefine((input, ctx) => {
  // A key pasted into the wrong box would be stored and sent to Google as
  // prompt text (K1): refuse it and point to the key field.
  const pasted = keyLines(input.prompts)[0] ?? -1;
  if (pasted >= 0 || looksLikeApiKey(input.title)) {
    ctx.addIssue({
      code: "custom",
      path: [pasted >= 0 ? "prompts" : "title"],
      message: KEY_IN_BATCH_MESSAGE,
    });
  }
  const model = findModel(input.model);
  if (!model) return;
  if (!model.aspectRatios.includes(input.aspectRatio)) {
    ctx.addIssue({
      code: "custom",
      path: ["aspectRatio"],
      message: `${model.label} supports the aspect ratios ${
        model.aspectRatios.join(", ")
      }.`,
    });
  }
  const sizes = sizeChoices(model);
  if (input.imageSize && !sizes.includes(input.imageSize)) {
    ctx.addIssue({
      code: "custom",
      path: ["imageSize"],
      message: `${model.label} supports the image sizes ${sizes.join(", ")}.`,
    });
  }
  if (input.prompts.length * input.imagesPerPrompt > LIMITS.itemsPerBatch) {
    ctx.addIssue({
      code: "custom",
      path: ["imagesPerPrompt"],
      message: `At most ${LIMITS.itemsPerBatch} images per batch.`,
    });
  }
});

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

export type BatchInput = z.infer<typeof batchInputSchema> & {
  /** The size stored, shown and priced (the model's default when not given). */
  imageSize: string;
};

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
  } else if (secrets.length > 0) {
    const { scrub } = createScrubber(secrets);
    const { prompts, title } = result.data;
    if (prompts.some((p) => scrub(p) !== p)) {
      errors.prompts = KEY_IN_BATCH_MESSAGE;
    } else if (scrub(title) !== title) errors.title = KEY_IN_BATCH_MESSAGE;
  }
  if (!result.success || Object.keys(errors).length > 0) {
    const first = Object.values(errors)[0] ?? "Invalid batch.";
    return refuse("invalid_input", first, { fields: errors });
  }
  const input = result.data;
  return {
    ok: true,
    value: {
      ...input,
      imageSize: imageSizeOrDefault(input.model, input.imageSize),
    },
  };
}

/** What a valid input becomes: a titled batch with settings and an estimate. */
export interface BatchPlan {
  title: string;
  model: string;
  settings: BatchSettings;
  prompts: readonly string[];
  budgetUsd: number | null;
  estimate: BatchEstimate;
}

/** Plans a batch from valid input; `defaultConcurrency` fills a blank one. */
export function planBatch(
  input: BatchInput,
  defaultConcurrency: number,
): BatchPlan {
  return {
    title: input.title || defaultTitle(input.prompts),
    model: input.model,
    settings: {
      aspectRatio: input.aspectRatio,
      imageSize: input.imageSize,
      imagesPerPrompt: input.imagesPerPrompt,
      concurrency: input.concurrency ?? defaultConcurrency,
    },
    prompts: input.prompts,
    budgetUsd: input.budgetUsd ?? null,
    estimate: estimateBatch({
      model: input.model,
      imageSize: input.imageSize,
      prompts: input.prompts,
      imagesPerPrompt: input.imagesPerPrompt,
    }),
  };
}

/** A default title from the first prompt. */
export function defaultTitle(prompts: readonly string[]): string {
  const first = prompts[0] ?? "Batch";
  const short = first.length > 60 ? `${first.slice(0, 57)}…` : first;
  return prompts.length > 1 ? `${short} (+${prompts.length - 1})` : short;
}

/** One image to make: a prompt at a position, and which of its images. */
export interface ItemSlot {
  position: number;
  imageIndex: number;
  prompt: string;
}

/** Every image of a plan, in order: each prompt × each image index. */
export function itemSlots(
  plan: Pick<BatchPlan, "prompts" | "settings">,
): ItemSlot[] {
  return plan.prompts.flatMap((prompt, position) =>
    Array.from(
      { length: plan.settings.imagesPerPrompt },
      (_, imageIndex) => ({ position, imageIndex, prompt }),
    )
  );
}
