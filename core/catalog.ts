/**
 * Local capability table of Google's image models (gemini-api.md §1.1).
 * The model list a key can use comes from `GET models`; this table adds what
 * Google does not list there: aspect ratios and image sizes per model.
 */

export const STANDARD_RATIOS = [
  "1:1",
  "2:3",
  "3:2",
  "3:4",
  "4:3",
  "4:5",
  "5:4",
  "9:16",
  "16:9",
  "21:9",
] as const;

export const EXTENDED_RATIOS = [
  ...STANDARD_RATIOS,
  "1:4",
  "4:1",
  "1:8",
  "8:1",
] as const;

/** What BatchGen knows about one image model. */
export interface ModelInfo {
  id: string;
  label: string;
  aspectRatios: readonly string[];
  /** Values for `imageConfig.imageSize`; empty when the model takes none. */
  imageSizes: readonly string[];
  defaultSize: string;
  /** Reference images one request may carry (gemini-api.md §1.1). */
  maxReferences: number;
  /** What sets the model apart, never a price claim (prices: core/cost.ts). */
  note?: string;
}

export const KNOWN_MODELS: readonly ModelInfo[] = [
  {
    id: "gemini-nano-banana-2.1",
    label: "Nano Banana 2.1",
    aspectRatios: EXTENDED_RATIOS,
    imageSizes: ["1K", "2K", "4K"],
    defaultSize: "1K",
    maxReferences: 14,
  },
  {
    id: "gemini-3-pro-image",
    label: "Nano Banana Pro",
    aspectRatios: STANDARD_RATIOS,
    imageSizes: ["1K", "2K", "4K"],
    defaultSize: "1K",
    maxReferences: 14,
    note: "best at text and complex layouts; slowest",
  },
  {
    id: "gemini-3.1-flash-lite-image",
    label: "Nano Banana 2 Lite",
    aspectRatios: STANDARD_RATIOS,
    imageSizes: ["1K"],
    defaultSize: "1K",
    maxReferences: 14,
    note: "1K only",
  },
  {
    id: "gemini-3.1-flash-image",
    label: "Nano Banana 2",
    aspectRatios: EXTENDED_RATIOS,
    imageSizes: ["512", "1K", "2K", "4K"],
    defaultSize: "1K",
    maxReferences: 14,
    note: "deprecated by Google",
  },
  {
    id: "gemini-2.5-flash-image",
    label: "Nano Banana (2.5)",
    aspectRatios: STANDARD_RATIOS,
    imageSizes: [],
    defaultSize: "1K",
    // Google recommends at most three inputs for the original model.
    maxReferences: 3,
    note: "past its shutdown date; 1K only",
  },
];

export const DEFAULT_MODEL_ID = "gemini-nano-banana-2.1";

/** Finds a model of the local table by id (with or without `models/`). */
export function findModel(id: string): ModelInfo | undefined {
  const bare = id.replace(/^models\//, "");
  return KNOWN_MODELS.find((m) => m.id === bare);
}

/** Sizes to offer for a model; a model that takes none offers its fixed size. */
export function sizeChoices(model: ModelInfo): readonly string[] {
  return model.imageSizes.length > 0 ? model.imageSizes : [model.defaultSize];
}

/**
 * The size a batch of `modelId` is stored, shown and priced at: the one asked
 * for, else the model's default. (Whether it is offered is the validator's
 * question; see core/batch_input.ts.)
 */
export function imageSizeOrDefault(
  modelId: string,
  requested?: string,
): string {
  return requested || findModel(modelId)?.defaultSize || "1K";
}

/**
 * The `imageConfig.imageSize` to send to Google: undefined for a model that
 * takes none (Google rejects the field there), else the batch's size.
 */
export function requestImageSize(
  modelId: string,
  size: string,
): string | undefined {
  const model = findModel(modelId);
  return model && model.imageSizes.length === 0 ? undefined : size;
}

/** `requested` if the model offers that size, else the model's default. */
export function offeredSizeOrDefault(
  model: ModelInfo,
  requested: string | undefined,
): string {
  return sizeChoices(model).includes(requested ?? "")
    ? requested!
    : model.defaultSize;
}
