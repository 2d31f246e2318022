/**
 * The models a fake key can see and the `GET models` answers
 * (gemini-api.md §2.4), built from the local table in core/catalog.ts.
 */
import { findModel, KNOWN_MODELS, type ModelInfo } from "../../core/catalog.ts";
import { modelNotFoundError } from "./errors.ts";
import { googleError, type Outcome } from "./http.ts";

/** A text model listed beside the image models, as on a real key. */
export const TEXT_MODEL_ID = "gemini-2.5-flash";

const IMAGE_METHODS = [
  "generateContent",
  "countTokens",
  "batchGenerateContent",
];
const TEXT_METHODS = ["generateContent", "countTokens"];
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;

/** Token limits and versions Google reports (Vertex model cards where known). */
const DETAILS: Record<
  string,
  { version: string; input: number; output: number }
> = {
  "gemini-nano-banana-2.1": { version: "2.1", input: 131072, output: 32768 },
  "gemini-3-pro-image": { version: "3.0", input: 65536, output: 32768 },
  "gemini-3.1-flash-lite-image": { version: "3.1", input: 65536, output: 4096 },
  "gemini-3.1-flash-image": { version: "3.1", input: 131072, output: 32768 },
  "gemini-2.5-flash-image": { version: "2.0", input: 32768, output: 32768 },
  [TEXT_MODEL_ID]: { version: "001", input: 1048576, output: 65536 },
};

/** One model the fake serves; `image` is absent for text-only models. */
export interface ModelEntry {
  id: string;
  image?: ModelInfo;
  resource: Record<string, unknown>;
}

/** Default ids: every model of core/catalog.ts plus one text model; Imagen is gone. */
export function defaultModelIds(): string[] {
  return [...KNOWN_MODELS.map((m) => m.id), TEXT_MODEL_ID];
}

/** Builds the entries for `ids`; ids unknown to core/catalog.ts become text models. */
export function buildCatalog(ids: readonly string[]): ModelEntry[] {
  return ids.map((raw) => {
    const id = raw.replace(/^models\//, "");
    const image = findModel(id);
    const details = DETAILS[id] ??
      { version: "001", input: 32768, output: 8192 };
    const resource = {
      name: `models/${id}`,
      version: details.version,
      displayName: image?.label ?? id,
      description: image
        ? `${image.label} image generation model${
          image.note ? ` (${image.note})` : ""
        }.`
        : "Text model.",
      inputTokenLimit: details.input,
      outputTokenLimit: details.output,
      supportedGenerationMethods: image ? IMAGE_METHODS : TEXT_METHODS,
      temperature: 1,
      topP: 0.95,
      topK: 64,
      maxTemperature: 2,
      thinking: id !== "gemini-2.5-flash-image",
    };
    return image ? { id, image, resource } : { id, resource };
  });
}

/** `GET /{v}/models` with real pagination (opaque page tokens). */
export function listModels(
  models: readonly ModelEntry[],
  query: URLSearchParams,
): Outcome {
  const sizeText = query.get("pageSize");
  const size = sizeText === null ? DEFAULT_PAGE_SIZE : Number(sizeText);
  if (!Number.isInteger(size) || size < 0) {
    return googleError(
      400,
      `Invalid value at 'page_size' (TYPE_INT32), "${sizeText}"`,
    );
  }
  const pageSize = Math.min(size || DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  const token = query.get("pageToken");
  const offset = token ? decodeToken(token) : 0;
  if (offset === undefined || offset > models.length) {
    return googleError(400, "Invalid page token.");
  }
  const page = models.slice(offset, offset + pageSize);
  const next = offset + pageSize;
  const body: Record<string, unknown> = { models: page.map((m) => m.resource) };
  if (next < models.length) body.nextPageToken = encodeToken(next);
  return { status: 200, body };
}

/** `GET /{v}/models/{id}`. */
export function getModel(
  models: readonly ModelEntry[],
  id: string,
  version: string,
): Outcome {
  const model = models.find((m) => m.id === id);
  if (!model) return modelNotFoundError(id, version, "get");
  return { status: 200, body: model.resource };
}

function encodeToken(offset: number): string {
  return btoa(`models-offset:${offset}`).replace(/=+$/, "");
}

function decodeToken(token: string): number | undefined {
  try {
    const match = /^models-offset:(\d+)$/.exec(atob(token));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}
