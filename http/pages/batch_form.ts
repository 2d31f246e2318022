/** Reads the new-batch form (textarea and optional upload) into raw input. */
import type { Context } from "hono";
import {
  PromptFileError,
  readPromptFile,
  splitPromptLines,
} from "../../core/prompt_file.ts";
import type { BatchFormValues } from "../../views/pages/new_batch_page.tsx";

export interface BatchForm {
  values: BatchFormValues;
  raw: Record<string, unknown>;
  fileError?: string;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** Parses the form body; numbers stay strings for zod to coerce. */
export async function readBatchForm(c: Context): Promise<BatchForm> {
  const body = await c.req.parseBody();
  const values: BatchFormValues = {
    title: text(body.title),
    prompts: text(body.prompts),
    model: text(body.model),
    aspectRatio: text(body.aspectRatio),
    imageSize: text(body.imageSize),
    imagesPerPrompt: text(body.imagesPerPrompt),
    concurrency: text(body.concurrency),
    budgetUsd: text(body.budgetUsd),
  };
  const prompts = splitPromptLines(values.prompts ?? "");
  let fileError: string | undefined;
  const file = body.promptsFile;
  if (file instanceof File && file.size > 0) {
    try {
      prompts.push(
        ...readPromptFile({
          name: file.name,
          type: file.type,
          bytes: new Uint8Array(await file.arrayBuffer()),
        }),
      );
    } catch (error) {
      if (!(error instanceof PromptFileError)) throw error;
      fileError = error.message;
    }
  }
  const blankToUndefined = (v: string | undefined) =>
    v === undefined || v.trim() === "" ? undefined : v;
  return {
    values,
    fileError,
    raw: {
      title: values.title ?? "",
      prompts,
      model: values.model,
      aspectRatio: values.aspectRatio,
      imageSize: values.imageSize,
      imagesPerPrompt: blankToUndefined(
        values.imagesPerPrompt as string | undefined,
      ),
      concurrency: blankToUndefined(values.concurrency as string | undefined),
      budgetUsd: blankToUndefined(values.budgetUsd as string | undefined),
    },
  };
}
