/**
 * The one definition of a valid new batch, shared by the form and the JSON
 * API: known model, a ratio and size that model supports, sane counts.
 */
import { z } from "zod";
import { LIMITS } from "./limits.ts";
import { findModel, KNOWN_MODELS, sizeChoices } from "./models.ts";

const modelIds = KNOWN_MODELS.map((m) => m.id);

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
  aspectRatio: z.string({ error: "Choose an aspect ratio." }).default("1:1"),
  imageSize: z.string({ error: "Choose an image size." }).default(""),
  imagesPerPrompt: z.coerce.number({
    error: "Images per prompt must be a whole number.",
  }).int(
    "Images per prompt must be a whole number.",
  )
    .min(1, "At least 1 image per prompt.").max(
      LIMITS.imagesPerPrompt,
      `At most ${LIMITS.imagesPerPrompt} images per prompt.`,
    ).default(1),
  concurrency: z.coerce.number({ error: "Parallel requests: 1 to 16." }).int(
    "Parallel requests: 1 to 16.",
  ).min(1, "Parallel requests: 1 to 16.")
    .max(
      16,
      "Parallel requests: 1 to 16.",
    ).optional(),
  budgetUsd: z.coerce.number({ error: "The budget must be a number of USD." })
    .min(0, "The budget cannot be negative.").max(
      1_000_000,
      "The budget can be at most 1,000,000 USD.",
    ).optional(),
}).superRefine((input, ctx) => {
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
