/**
 * The one definition of a valid new batch, shared by the form and the JSON
 * API: known model, a ratio and size that model supports, sane counts.
 */
import { z } from "zod";
import { looksLikeApiKey } from "./scrub.ts";
import { BUDGET_MESSAGES } from "./budget.ts";
import { DEFAULTS, LIMITS } from "./limits.ts";
import { findModel, KNOWN_MODELS, sizeChoices } from "./catalog.ts";

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
  model: z.string({ error: "Choose a model." }).refine(
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
  const pasted = input.prompts.findIndex(looksLikeApiKey);
  if (pasted >= 0 || looksLikeApiKey(input.title)) {
    ctx.addIssue({
      code: "custom",
      path: [pasted >= 0 ? "prompts" : "title"],
      message:
        "This looks like an API key. Paste your key into the key field at the top, not into the batch.",
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

export type BatchInput = z.infer<typeof batchInputSchema>;

export type ParsedInput =
  | { ok: true; input: BatchInput & { imageSize: string } }
  | { ok: false; errors: Record<string, string> };

/** Validates raw input; errors are keyed by field, one message each. */
export function parseBatchInput(raw: unknown): ParsedInput {
  const result = batchInputSchema.safeParse(raw);
  if (!result.success) {
    const errors: Record<string, string> = {};
    for (const issue of result.error.issues) {
      const field = String(issue.path[0] ?? "form");
      errors[field] ??= issue.message;
    }
    return { ok: false, errors };
  }
  const model = findModel(result.data.model)!;
  return {
    ok: true,
    input: {
      ...result.data,
      imageSize: result.data.imageSize || model.defaultSize,
    },
  };
}
