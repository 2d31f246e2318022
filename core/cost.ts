/**
 * Cost ESTIMATES of the user's Google usage (invariant K9): Google bills the
 * user's own key; BatchGen charges nothing and only estimates from Google's
 * published prices (`prices.json`, gemini-api.md §5.1). Every figure shown must
 * carry `COST_LABEL`; a model without a price is "price unknown", never free.
 *
 * Arithmetic is exact: a rate in USD per 1M tokens times 10^4 is an integer
 * ("rate units"), so tokens × rate units counts whole 10^-10 USD; one division
 * at the end turns that into the nearest double of the exact decimal amount.
 */

import prices from "./prices.json" with { type: "json" };
import { imageSizeOrDefault } from "./catalog.ts";

/** One model's entry in `prices.json`. */
export interface ModelPrice {
  inputPerMillion: number;
  textOutputPerMillion: number;
  imageOutputPerMillion: number;
  /** Output tokens Google bills for one image, by `imageSize` value. */
  imageTokensBySize: Readonly<Record<string, number>>;
  source: string;
  asOf: string;
  note?: string;
}

/** The shape of `prices.json`. */
export interface PriceList {
  priceListDate: string;
  currency: string;
  batchDiscount: number;
  models: Readonly<Record<string, ModelPrice>>;
}

/** Token counts of one response, from its `usageMetadata` (gemini-api.md §2.3). */
export interface Usage {
  /** `promptTokenCount` (text and input images). */
  promptTokens: number;
  /** `candidatesTokenCount`; INCLUDES the image tokens. */
  outputTokens: number;
  /** IMAGE entries of `candidatesTokensDetails`. */
  imageTokens: number;
  /** `thoughtsTokenCount`, billed at the text output rate. */
  thoughtTokens: number;
}

/** Options of `estimateBatch()`. */
export interface BatchEstimateInput {
  model: string;
  imageSize: string;
  prompts: readonly string[];
  imagesPerPrompt: number;
}

/** Result of `estimateBatch()`; `null` amounts mean "price unknown". */
export interface BatchEstimate {
  images: number;
  perImageUsd: number | null;
  totalUsd: number | null;
  priceListDate: string;
}

const PRICES: PriceList = prices;

/** What Google's Batch API bills, as a share of the standard price. */
export const BATCH_DISCOUNT: number = PRICES.batchDiscount;

/** A standard-price figure at the price of `mode` (Batch mode: ×0.5). */
export function atModePrice(
  usd: number | null,
  mode: "standard" | "batch",
): number | null {
  return usd === null || mode === "standard" ? usd : usd * BATCH_DISCOUNT;
}

/** Date of the price list every estimate is based on. */
export const PRICE_LIST_DATE: string = PRICES.priceListDate;

/** Label to show next to every cost figure (K9). */
/** The label every cost figure carries (K9), with its price list's date. */
export function costLabel(priceListDate?: string | null): string {
  return `Estimated Google usage (not a BatchGen charge), prices as of ${
    priceListDate ?? PRICE_LIST_DATE
  }`;
}

/** The label for figures computed from the current price list. */
export const COST_LABEL = costLabel();

/** One row of a batch as `estimateRows()` prices it. */
export interface RowCostInput {
  model: string;
  imageSize: string;
  promptChars: number;
  images: number;
  /** Reference images sent with each request. */
  inputImages: number;
}

/** Result of `estimateRows()`: the total, and the share of each model. */
export interface RowsEstimate extends BatchEstimate {
  byModel: { model: string; images: number; totalUsd: number | null }[];
}

/** Input tokens Google counts for one input image (Gemini 3 Pro Image). */
export const INPUT_IMAGE_TOKENS = 560;

/** Rough input tokens per prompt character (no tokenizer offline). */
const CHARS_PER_TOKEN = 4;
/** Rate units per USD-per-1M-tokens; tokens × rate units = 10^-10 USD. */
const RATE_SCALE = 10_000;
const UNITS_PER_USD = 1e10;

/** The price entry of a model (id with or without `models/`), if any. */
export function modelPrice(model: string): ModelPrice | undefined {
  const id = model.replace(/^models\//, "");
  return Object.hasOwn(PRICES.models, id) ? PRICES.models[id] : undefined;
}

/** Whether the price table knows the model. */
export function knownPrice(model: string): boolean {
  return modelPrice(model) !== undefined;
}

/**
 * Estimated USD for one image: the size's image tokens at the image rate plus
 * ceil(promptChars / 4) input tokens at the input rate. An empty `imageSize`
 * means the model's default size. `null` for an unknown model or size.
 */
export function estimateImageUsd(
  model: string,
  imageSize: string,
  promptChars = 0,
  inputImages = 0,
): number | null {
  const units = imageUnits(model, imageSize, promptChars, inputImages);
  return units === null ? null : toUsd(units);
}

/**
 * Estimated USD for a batch of `prompts.length × imagesPerPrompt` images,
 * summed per prompt since prompt length changes the input tokens.
 * `perImageUsd` is the average (the empty-prompt price when there are no
 * prompts).
 */
export function estimateBatch(input: BatchEstimateInput): BatchEstimate {
  const { model, imageSize, prompts, imagesPerPrompt } = input;
  if (!Number.isSafeInteger(imagesPerPrompt) || imagesPerPrompt < 0) {
    throw new RangeError(
      `Cannot estimate batch: imagesPerPrompt must be a whole number >= 0, got ${imagesPerPrompt}`,
    );
  }
  const images = prompts.length * imagesPerPrompt;
  const unknown = {
    images,
    perImageUsd: null,
    totalUsd: null,
    priceListDate: PRICE_LIST_DATE,
  };
  const emptyPrompt = imageUnits(model, imageSize, 0);
  if (emptyPrompt === null) return unknown;
  let total = 0;
  for (const prompt of prompts) {
    // Known model and size (checked above), so never null here.
    total += (imageUnits(model, imageSize, prompt.length) ?? 0) *
      imagesPerPrompt;
  }
  return {
    images,
    perImageUsd: toUsd(images > 0 ? Math.round(total / images) : emptyPrompt),
    totalUsd: toUsd(total),
    priceListDate: PRICE_LIST_DATE,
  };
}

/**
 * Estimated USD for rows that may differ in model, size and inputs: summed
 * per row, and per model. Any row without a price makes the total unknown
 * (never a partial figure that looks complete).
 */
export function estimateRows(rows: readonly RowCostInput[]): RowsEstimate {
  let total: number | null = 0;
  let images = 0;
  const byModel = new Map<string, { images: number; units: number | null }>();
  for (const row of rows) {
    const units = imageUnits(
      row.model,
      row.imageSize,
      row.promptChars,
      row.inputImages,
    );
    const share = byModel.get(row.model) ?? { images: 0, units: 0 };
    share.images += row.images;
    share.units = units === null || share.units === null
      ? null
      : share.units + units * row.images;
    byModel.set(row.model, share);
    images += row.images;
    total = units === null || total === null
      ? null
      : total + units * row.images;
  }
  return {
    images,
    perImageUsd: total === null
      ? null
      : toUsd(images > 0 ? Math.round(total / images) : 0),
    totalUsd: total === null ? null : toUsd(total),
    priceListDate: PRICE_LIST_DATE,
    byModel: [...byModel].map(([model, share]) => ({
      model,
      images: share.images,
      totalUsd: share.units === null ? null : toUsd(share.units),
    })),
  };
}

/**
 * USD of one response from its token counts: image tokens at the image rate,
 * other output tokens plus thought tokens at the text rate, prompt tokens at
 * the input rate (gemini-api.md §5.1). `null` for an unknown model.
 */
export function costFromUsage(model: string, usage: Usage): number | null {
  const price = modelPrice(model);
  if (!price) return null;
  const imageTokens = tokenCount(usage.imageTokens);
  const textTokens = Math.max(0, tokenCount(usage.outputTokens) - imageTokens) +
    tokenCount(usage.thoughtTokens);
  return toUsd(
    imageTokens * rateUnits(price.imageOutputPerMillion) +
      textTokens * rateUnits(price.textOutputPerMillion) +
      tokenCount(usage.promptTokens) * rateUnits(price.inputPerMillion),
  );
}

/**
 * Formats USD for display: "$12.40" from $1 up, three significant digits
 * below ("$0.134", "$0.0336"); `null` → "price unknown".
 */
export function formatUsd(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return "price unknown";
  const sign = n < 0 ? "-" : "";
  const abs = Math.abs(n);
  if (abs === 0) return "$0.00";
  if (abs >= 1) {
    const text = abs.toLocaleString("en-US", {
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    });
    return `${sign}$${text}`;
  }
  const decimals = Math.max(2, 2 - Math.floor(Math.log10(abs)));
  const text = abs.toFixed(Math.min(decimals, 100))
    .replace(/(\.\d\d\d*?)0+$/, "$1");
  return `${sign}$${text}`;
}

/** One image in 10^-10 USD, or `null` when model or size has no price. */
function imageUnits(
  model: string,
  imageSize: string,
  promptChars: number,
  inputImages = 0,
): number | null {
  const price = modelPrice(model);
  if (!price) return null;
  const size = imageSizeOrDefault(model, imageSize);
  const tokens = Object.hasOwn(price.imageTokensBySize, size)
    ? price.imageTokensBySize[size]
    : undefined;
  if (tokens === undefined) return null;
  const inputTokens = Math.ceil(tokenCount(promptChars) / CHARS_PER_TOKEN) +
    tokenCount(inputImages) * INPUT_IMAGE_TOKENS;
  return tokens * rateUnits(price.imageOutputPerMillion) +
    inputTokens * rateUnits(price.inputPerMillion);
}

function rateUnits(perMillion: number): number {
  return Math.round(perMillion * RATE_SCALE);
}

function tokenCount(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

function toUsd(units: number): number {
  return units / UNITS_PER_USD;
}
