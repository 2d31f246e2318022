/**
 * Validation of a GenerateContentRequest, in the order Google's front end
 * checks things (gemini-api.md §2.2, §3.2).
 */
import {
  invalidArgument,
  modelNotFoundError,
  unknownFieldError,
} from "./errors.ts";
import { isRecord, type Outcome } from "./http.ts";
import type { Plan } from "./responses.ts";
import { oneOf, sortRatios } from "./sizes.ts";
import type { FakeState } from "./state.ts";

/** A plan, or the 4xx answer that stopped it. */
export type PlanResult = { ok: true; plan: Plan } | {
  ok: false;
  outcome: Outcome;
};

function fail(outcome: Outcome): PlanResult {
  return { ok: false, outcome };
}

function sizeField(text: string): string {
  return `* GenerateContentRequest.generation_config.image_config.${text}\n`;
}

/** Validates a GenerateContentRequest the way Google's front end does, in the same order. */
export function planGenerate(
  state: FakeState,
  version: string,
  modelId: string,
  body: unknown,
): PlanResult {
  if (!isRecord(body)) {
    return fail(
      invalidArgument("Invalid JSON payload received. Unexpected token."),
    );
  }
  const config = isRecord(body.generationConfig) ? body.generationConfig : {};
  // Documented v1 behaviour (js-genai #1322); BatchGen pins v1beta because of it.
  if (version === "v1" && config.responseModalities !== undefined) {
    return fail(unknownFieldError("responseModalities", "generation_config"));
  }
  const model = state.models.find((m) => m.id === modelId);
  if (!model) {
    return fail(modelNotFoundError(modelId, version, "generateContent"));
  }
  if (!Array.isArray(body.contents) || body.contents.length === 0) {
    return fail(
      invalidArgument(
        "* GenerateContentRequest.contents: contents is not specified\n",
      ),
    );
  }
  if (typeof config.candidateCount === "number" && config.candidateCount > 1) {
    return fail(
      invalidArgument(
        `Multiple candidates is not enabled for models/${model.id}`,
      ),
    );
  }
  const modalities = Array.isArray(config.responseModalities)
    ? config.responseModalities.map(String)
    : ["TEXT", "IMAGE"];
  const { prompt, inputImages } = readContents(body.contents);
  const plan: Plan = { model, prompt, inputImages, modalities };
  if (!model.image) {
    if (
      config.responseModalities !== undefined && modalities.includes("IMAGE")
    ) {
      return fail(
        invalidArgument(
          "Model does not support the requested response modality: IMAGE",
        ),
      );
    }
    return { ok: true, plan };
  }
  const imageConfig = isRecord(config.imageConfig) ? config.imageConfig : {};
  const ratio = imageConfig.aspectRatio ?? "1:1";
  if (typeof ratio !== "string" || !model.image.aspectRatios.includes(ratio)) {
    return fail(invalidArgument(sizeField(
      `aspect_ratio: aspect_ratio must be one of ${
        oneOf(sortRatios(model.image.aspectRatios))
      }.`,
    )));
  }
  const size = imageConfig.imageSize;
  if (size !== undefined) {
    const sizes = model.image.imageSizes;
    if (sizes.length === 0) {
      return fail(invalidArgument(sizeField(
        `image_size: image_size is not supported for models/${model.id}.`,
      )));
    }
    if (typeof size !== "string" || !sizes.includes(size)) {
      return fail(
        invalidArgument(
          sizeField(`image_size: image_size must be one of ${oneOf(sizes)}.`),
        ),
      );
    }
  }
  if (modalities.includes("IMAGE")) {
    plan.image = {
      ratio,
      size: typeof size === "string" ? size : model.image.defaultSize,
    };
  }
  return { ok: true, plan };
}

function readContents(contents: unknown[]) {
  const texts: string[] = [];
  let inputImages = 0;
  for (const content of contents) {
    const parts = isRecord(content) && Array.isArray(content.parts)
      ? content.parts
      : [];
    for (const part of parts) {
      if (!isRecord(part)) continue;
      if (typeof part.text === "string") texts.push(part.text);
      if (part.inlineData !== undefined || part.fileData !== undefined) {
        inputImages++;
      }
    }
  }
  return { prompt: texts.join("\n"), inputImages };
}
