import assert from "node:assert/strict";
import prices from "./prices.json" with { type: "json" };
import { KNOWN_MODELS, sizeChoices } from "./catalog.ts";
import {
  COST_LABEL,
  costFromUsage,
  estimateBatch,
  estimateImageUsd,
  formatUsd,
  knownPrice,
  modelPrice,
  PRICE_LIST_DATE,
} from "./cost.ts";

// Worked examples: rates are USD per 1M tokens, so tokens × rate is in
// micro-dollars (µ$); 1 µ$ = $0.000001.

Deno.test("estimateImageUsd() prices one Pro 1K image", () => {
  // 1120 image tokens × $120/1M = 134400 µ$ = $0.1344
  assert.equal(estimateImageUsd("gemini-3-pro-image", "1K"), 0.1344);
  // + 40 chars → ceil(40/4) = 10 input tokens × $2/1M = 20 µ$ → 134420 µ$
  assert.equal(estimateImageUsd("gemini-3-pro-image", "1K", 40), 0.13442);
  // + 41 chars → ceil(41/4) = 11 tokens × 2 = 22 µ$ → 134422 µ$
  assert.equal(estimateImageUsd("gemini-3-pro-image", "1K", 41), 0.134422);
  // 2K is billed as 1120 tokens too.
  assert.equal(estimateImageUsd("gemini-3-pro-image", "2K"), 0.1344);
});

Deno.test("estimateImageUsd() prices one Pro 4K image", () => {
  // 2000 × 120 = 240000 µ$ = $0.24
  assert.equal(estimateImageUsd("gemini-3-pro-image", "4K"), 0.24);
  // + 100 chars → 25 tokens × 2 = 50 µ$ → 240050 µ$
  assert.equal(estimateImageUsd("gemini-3-pro-image", "4K", 100), 0.24005);
});

Deno.test("estimateImageUsd() prices the flash-image 512 tier", () => {
  // 747 × 60 = 44820 µ$ = $0.04482
  assert.equal(estimateImageUsd("gemini-3.1-flash-image", "512"), 0.04482);
  // + 10 chars → 3 tokens × 0.50 = 1.5 µ$ → 44821.5 µ$
  assert.equal(
    estimateImageUsd("gemini-3.1-flash-image", "512", 10),
    0.0448215,
  );
  // 4K: 2520 × 60 = 151200 µ$
  assert.equal(estimateImageUsd("gemini-3.1-flash-image", "4K"), 0.1512);
});

Deno.test("estimateImageUsd() prices the $30-rate models", () => {
  // Nano Banana 2.1: 1120 / 1680 / 2520 tokens × 30 µ$
  assert.equal(estimateImageUsd("gemini-nano-banana-2.1", "1K"), 0.0336);
  assert.equal(estimateImageUsd("gemini-nano-banana-2.1", "2K"), 0.0504);
  assert.equal(estimateImageUsd("gemini-nano-banana-2.1", "4K"), 0.0756);
  // Lite: 1120 × 30 = 33600 µ$; + 7 chars → 2 tokens × 0.25 = 0.5 µ$
  assert.equal(estimateImageUsd("gemini-3.1-flash-lite-image", "1K"), 0.0336);
  assert.equal(
    estimateImageUsd("gemini-3.1-flash-lite-image", "1K", 7),
    0.0336005,
  );
  // 2.5 Flash Image: fixed 1290 × 30 = 38700 µ$; takes no imageSize, so an
  // empty size means its default (1K).
  assert.equal(estimateImageUsd("gemini-2.5-flash-image", "1K"), 0.0387);
  assert.equal(estimateImageUsd("gemini-2.5-flash-image", ""), 0.0387);
});

Deno.test("estimateImageUsd() accepts a models/ prefix", () => {
  assert.equal(estimateImageUsd("models/gemini-3-pro-image", "1K"), 0.1344);
  assert.equal(knownPrice("models/gemini-3-pro-image"), true);
});

Deno.test("estimateImageUsd() returns null for an unknown model or size", () => {
  assert.equal(estimateImageUsd("imagen-4.0-generate-001", "1K"), null);
  assert.equal(estimateImageUsd("gemini-3-pro-image-preview", "1K"), null);
  assert.equal(estimateImageUsd("gemini-3.1-flash-lite-image", "4K"), null);
  assert.equal(estimateImageUsd("gemini-3-pro-image", "512"), null);
  assert.equal(estimateImageUsd("toString", "1K"), null);
  assert.equal(knownPrice("imagen-4.0-generate-001"), false);
  assert.equal(knownPrice("constructor"), false);
});

Deno.test("costFromUsage() bills image, text + thought, and input tokens", () => {
  // gemini-3-pro-image, usageMetadata of gemini-api.md §2.3:
  //   input  1130 × 2                       =   2260 µ$
  //   text   (1223 − 1120 + 106) = 209 × 12 =   2508 µ$
  //   image  1120 × 120                     = 134400 µ$
  //   total                                 = 139168 µ$ = $0.139168
  const usage = {
    promptTokens: 1130,
    outputTokens: 1223,
    imageTokens: 1120,
    thoughtTokens: 106,
  };
  assert.equal(costFromUsage("gemini-3-pro-image", usage), 0.139168);
  assert.equal(formatUsd(costFromUsage("gemini-3-pro-image", usage)), "$0.139");
});

Deno.test("costFromUsage() bills a blocked item's input and thought tokens", () => {
  // IMAGE_PROHIBITED_CONTENT on Pro: 1119 × 2 + 240 × 12 = 2238 + 2880
  //   = 5118 µ$ = $0.005118 (assumed billed; gemini-api.md §2.3)
  const usage = {
    promptTokens: 1119,
    outputTokens: 0,
    imageTokens: 0,
    thoughtTokens: 240,
  };
  assert.equal(costFromUsage("gemini-3-pro-image", usage), 0.005118);
  assert.equal(formatUsd(0.005118), "$0.00512");
});

Deno.test("costFromUsage() keeps fractional micro-dollars exact", () => {
  // Lite: 3 × 0.25 + 5 × 1.50 = 0.75 + 7.5 = 8.25 µ$
  const usage = {
    promptTokens: 3,
    outputTokens: 5,
    imageTokens: 0,
    thoughtTokens: 0,
  };
  assert.equal(
    costFromUsage("gemini-3.1-flash-lite-image", usage),
    0.00000825,
  );
});

Deno.test("costFromUsage() ignores missing or negative counts", () => {
  // outputTokens below imageTokens (details over-report): no negative text.
  const usage = {
    promptTokens: Number.NaN,
    outputTokens: 0,
    imageTokens: 1120,
    thoughtTokens: -5,
  };
  assert.equal(costFromUsage("gemini-3-pro-image", usage), 0.1344);
});

Deno.test("unknown model prices are null and shown as unknown", () => {
  const usage = {
    promptTokens: 10,
    outputTokens: 1120,
    imageTokens: 1120,
    thoughtTokens: 0,
  };
  assert.equal(costFromUsage("imagen-4.0-ultra-generate-001", usage), null);
  assert.equal(formatUsd(null), "price unknown");
  assert.equal(
    formatUsd(estimateImageUsd("imagen-4.0-ultra-generate-001", "1K")),
    "price unknown",
  );
});

Deno.test("estimateBatch() sums 3 prompts × 2 images per prompt", () => {
  // Pro 1K, 134400 µ$ of image tokens per image, input at 2 µ$ per token:
  //   "a cat"        5 chars → 2 tokens   → 134404 µ$
  //   "a red fox…"  17 chars → 5 tokens   → 134410 µ$
  //   404 × "x"         → 101 tokens      → 134602 µ$
  //   sum 403416 µ$ × 2 images = 806832 µ$; average 806832 / 6 = 134472 µ$
  const estimate = estimateBatch({
    model: "gemini-3-pro-image",
    imageSize: "1K",
    prompts: ["a cat", "a red fox in snow", "x".repeat(404)],
    imagesPerPrompt: 2,
  });
  assert.deepEqual(estimate, {
    images: 6,
    perImageUsd: 0.134472,
    totalUsd: 0.806832,
    priceListDate: "2026-11-27",
  });
});

Deno.test("estimateBatch() with no prompts shows the empty-prompt price", () => {
  assert.deepEqual(
    estimateBatch({
      model: "gemini-3-pro-image",
      imageSize: "4K",
      prompts: [],
      imagesPerPrompt: 4,
    }),
    {
      images: 0,
      perImageUsd: 0.24,
      totalUsd: 0,
      priceListDate: PRICE_LIST_DATE,
    },
  );
});

Deno.test("estimateBatch() returns null amounts for an unknown model", () => {
  assert.deepEqual(
    estimateBatch({
      model: "imagen-4.0-generate-001",
      imageSize: "1K",
      prompts: ["a", "b"],
      imagesPerPrompt: 3,
    }),
    {
      images: 6,
      perImageUsd: null,
      totalUsd: null,
      priceListDate: PRICE_LIST_DATE,
    },
  );
});

Deno.test("estimateBatch() rejects a bad imagesPerPrompt", () => {
  for (const imagesPerPrompt of [-1, 1.5, Number.NaN]) {
    assert.throws(
      () =>
        estimateBatch({
          model: "gemini-3-pro-image",
          imageSize: "1K",
          prompts: ["a"],
          imagesPerPrompt,
        }),
      RangeError,
    );
  }
});

Deno.test("formatUsd() shows cents from $1 and 3 significant digits below", () => {
  assert.equal(formatUsd(0.1344), "$0.134");
  assert.equal(formatUsd(12.4), "$12.40");
  assert.equal(formatUsd(0.0336), "$0.0336");
  assert.equal(formatUsd(0.24), "$0.24");
  assert.equal(formatUsd(0.05), "$0.05");
  assert.equal(formatUsd(0.806832), "$0.807");
  assert.equal(formatUsd(0.000026), "$0.000026");
  assert.equal(formatUsd(0.99996), "$1.00");
  assert.equal(formatUsd(1234.5), "$1,234.50");
  assert.equal(formatUsd(0), "$0.00");
  assert.equal(formatUsd(Number.NaN), "price unknown");
});

Deno.test("COST_LABEL says estimate, not a BatchGen charge, and the date", () => {
  assert.equal(PRICE_LIST_DATE, "2026-11-27");
  assert.equal(
    COST_LABEL,
    "Estimated Google usage (not a BatchGen charge), prices as of 2026-11-27",
  );
});

Deno.test("prices.json prices every size of every model in core/catalog.ts", async (t) => {
  for (const model of KNOWN_MODELS) {
    await t.step(model.id, () => {
      assert.equal(knownPrice(model.id), true);
      for (const size of sizeChoices(model)) {
        const usd = estimateImageUsd(model.id, size);
        assert.ok(usd !== null && usd > 0, `${model.id} ${size}: ${usd}`);
      }
    });
  }
});

Deno.test("prices.json entries are well-formed and exact to 1/10000 $", () => {
  assert.equal(prices.currency, "USD");
  assert.equal(prices.batchDiscount, 0.5);
  for (const id of Object.keys(prices.models)) {
    const price = modelPrice(id);
    assert.ok(price, id);
    assert.match(price.asOf, /^\d{4}-\d{2}-\d{2}$/, id);
    assert.ok(price.source.length > 0, id);
    for (
      const rate of [
        price.inputPerMillion,
        price.textOutputPerMillion,
        price.imageOutputPerMillion,
      ]
    ) {
      assert.ok(rate > 0 && Number.isInteger(rate * 10_000), `${id} ${rate}`);
    }
    for (const tokens of Object.values(price.imageTokensBySize)) {
      assert.ok(Number.isSafeInteger(tokens) && tokens > 0, id);
    }
  }
  assert.match(
    modelPrice("gemini-nano-banana-2.1")?.note ?? "",
    /2K\/4K uncertain/,
  );
});
