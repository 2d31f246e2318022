import assert from "node:assert/strict";
import {
  buildBatch,
  itemSlots,
  type ReferenceInfo,
  type ReferenceLookup,
} from "./batch_plan.ts";
import { estimateImageUsd, INPUT_IMAGE_TOKENS } from "./cost.ts";
import { LIMITS } from "./limits.ts";

const MODEL = "gemini-nano-banana-2.1";
const PRO = "gemini-3-pro-image";
const LITE = "gemini-3.1-flash-lite-image";
const OPTIONS = { defaultConcurrency: 4 };

function refs(...names: string[]): {
  list: ReferenceInfo[];
  lookup: ReferenceLookup;
} {
  const list = names.map((name, i) => ({
    id: `ref${i}`,
    name,
    mimeType: "image/png" as const,
    bytes: 10,
    sha256: String(i).repeat(64),
  }));
  const byKey = new Map<string, ReferenceInfo>();
  for (const r of list) byKey.set(r.id, r).set(r.name, r);
  return { list, lookup: (key) => byKey.get(key) };
}

function plan(raw: Record<string, unknown>, references?: ReferenceLookup) {
  return buildBatch({ model: MODEL, ...raw }, { ...OPTIONS, references });
}

function refusal(result: ReturnType<typeof plan>): string {
  assert.equal(result.ok, false, "refused");
  return result.ok ? "" : result.problem.message;
}

Deno.test("[plan] empty cells take the batch's values; a row's own settings win", () => {
  const result = plan({
    aspectRatio: "4:3",
    imagesPerPrompt: 2,
    rows: [
      { prompt: "a fox" },
      { prompt: "an owl", model: PRO, aspectRatio: "16:9", imageSize: "2K" },
      { prompt: "a hare", imagesPerPrompt: "3" },
    ],
  });
  assert.ok(result.ok);
  assert.deepEqual(
    result.value.rows.map((
      r,
    ) => [r.model, r.aspectRatio, r.imageSize, r.images]),
    [[MODEL, "4:3", "1K", 2], [PRO, "16:9", "2K", 2], [MODEL, "4:3", "1K", 3]],
  );
  assert.equal(itemSlots(result.value).length, 7);
  assert.equal(result.value.model, MODEL, "mixed rows keep the default model");
  assert.deepEqual(
    result.value.estimate.byModel.map((m) => [m.model, m.images]),
    [[MODEL, 5], [PRO, 2]],
  );
  const expected = estimateImageUsd(MODEL, "1K", 5)! * 2 +
    estimateImageUsd(PRO, "2K", 6)! * 2 + estimateImageUsd(MODEL, "1K", 6)! * 3;
  assert.ok(Math.abs(result.value.estimate.totalUsd! - expected) < 1e-9);
});

Deno.test("[plan] a bad cell is refused with its row number and column, in words", () => {
  const rows = Array.from({ length: 14 }, (_, i) => ({ prompt: `p${i}` }));
  rows[13] = { prompt: "p", model: PRO, aspectRatio: "7:3" } as never;
  assert.match(
    refusal(plan({ rows })),
    /^row 14: aspect ratio 7:3 is not offered by Nano Banana Pro \(it offers 1:1/,
  );
  assert.match(
    refusal(plan({ rows: [{ prompt: "a", model: LITE, imageSize: "4K" }] })),
    /^row 1: size 4K is not offered by Nano Banana 2 Lite/,
  );
  assert.match(
    refusal(plan({ rows: [{ prompt: "a" }, { prompt: "b", count: 2 }] })),
    /^row 2: unknown field "count"/,
  );
  assert.match(
    refusal(plan({ rows: [{ prompt: "a", imagesPerPrompt: 99 }] })),
    /^row 1: count must be a whole number from 1 to 10/,
  );
  assert.match(
    refusal(plan({ rows: [{ prompt: "a", model: "imagen-4" }] })),
    /^row 1: unknown model "imagen-4"/,
  );
  assert.match(
    refusal(plan({ rows: [{ prompt: "  " }] })),
    /^row 1: the prompt is empty/,
  );
  assert.match(
    refusal(plan({
      rows: [{ prompt: "a", name: "Shoe" }, { prompt: "b", name: "shoe" }],
    })),
    /^row 2: the name "shoe" is already used by row 1/,
  );
});

Deno.test("[plan] templates expand before limits; the limit counts what they make", () => {
  const ok = plan({
    prompts: ["a {red|blue} __animal__", "plain"],
    expandTemplates: true,
    wildcards: { animal: ["fox", "owl"] },
  });
  assert.ok(ok.ok);
  assert.deepEqual(ok.value.rows.map((r) => r.prompt), [
    "a red fox",
    "a red owl",
    "a blue fox",
    "a blue owl",
    "plain",
  ]);
  assert.deepEqual(ok.value.rows[3]!.choices, ["blue", "owl"]);
  assert.equal(ok.value.rows[3]!.template, "a {red|blue} __animal__");
  assert.equal(ok.value.rows[4]!.template, null);
  assert.deepEqual(ok.value.rows.map((r) => r.row), [1, 1, 1, 1, 2]);
  // Without the option, braces are prompt text.
  const literal = plan({ prompts: ["a {red|blue} fox"] });
  assert.ok(literal.ok);
  assert.equal(literal.value.rows.length, 1);
  const digits = "{0|1|2|3|4|5|6|7|8|9}";
  assert.match(
    refusal(plan({ prompts: [digits.repeat(4)], expandTemplates: true })),
    /10000 prompts; at most/,
  );
  assert.match(
    refusal(plan({ prompts: ["a {red fox"], expandTemplates: true })),
    /^row 1: The template has an unclosed "\{"/,
  );
  assert.match(
    refusal(plan({ prompts: ["__colour__ fox"], expandTemplates: true })),
    /^row 1: No wildcard list named "colour"/,
  );
  // Items count after expansion too: 1,000 prompts × 10 images.
  assert.match(
    refusal(plan({
      prompts: ["{a|b|c|d|e|f|g|h|i|j}"].concat(
        Array.from({ length: 599 }, (_, i) => `p${i}`),
      ),
      expandTemplates: true,
      imagesPerPrompt: 10,
    })),
    new RegExp(`At most ${LIMITS.itemsPerBatch} images per batch`),
  );
});

Deno.test("[plan] a sample is repeatable by seed and differs across seeds", () => {
  const sample = (seed: number) => {
    const result = plan({
      prompts: ["{a|b|c|d|e|f|g|h} {i|j|k|l|m|n|o|p} {q|r|s|t}"],
      sample: { count: 6, seed },
    });
    assert.ok(result.ok);
    return result.value.rows.map((r) => r.prompt);
  };
  assert.equal(sample(1).length, 6);
  assert.deepEqual(sample(1), sample(1));
  assert.notDeepEqual(sample(1), sample(2));
});

Deno.test("[plan] a matrix runs every row with every combination, checked per model", () => {
  const result = plan({
    prompts: ["a fox", "an owl"],
    matrix: { model: [MODEL, PRO], imageSize: ["1K", "2K"] },
  });
  assert.ok(result.ok);
  assert.equal(result.value.rows.length, 8);
  assert.deepEqual(result.value.rows.slice(0, 4).map((r) => r.axis), [
    { model: MODEL, imageSize: "1K" },
    { model: MODEL, imageSize: "2K" },
    { model: PRO, imageSize: "1K" },
    { model: PRO, imageSize: "2K" },
  ]);
  assert.deepEqual(result.value.settings.matrix, {
    model: [MODEL, PRO],
    imageSize: ["1K", "2K"],
  });
  assert.match(
    refusal(plan({
      prompts: ["a fox"],
      matrix: { model: [MODEL, PRO], aspectRatio: ["1:8"] },
    })),
    /^row 1 \(matrix: Nano Banana Pro, 1:8\): aspect ratio 1:8 is not offered by Nano Banana Pro/,
  );
  assert.match(
    refusal(plan({ prompts: ["a"], matrix: { model: ["imagen-4"] } })),
    /Matrix: unknown model "imagen-4"/,
  );
});

Deno.test("[plan] references: shared, per row by name, one row per image; counted per model and priced", () => {
  const { lookup } = refs("style.png", "shoe.jpg", "bag.jpg");
  const shared = plan({
    rows: [{ prompt: "a", references: ["shoe.jpg"] }, { prompt: "b" }],
    references: ["ref0"],
  }, lookup);
  assert.ok(shared.ok);
  assert.deepEqual(shared.value.rows.map((r) => r.references), [
    ["ref0", "ref1"],
    ["ref0"],
  ]);
  assert.deepEqual(shared.value.references.map((r) => r.name), [
    "style.png",
    "shoe.jpg",
  ]);
  const withImages = shared.value.estimate.byModel[0]!.totalUsd!;
  const without = estimateImageUsd(MODEL, "1K", 1)! * 2;
  assert.ok(withImages > without, "input images add input tokens");
  assert.ok(INPUT_IMAGE_TOKENS > 0);

  const each = plan({
    prompts: ["on a white background"],
    references: ["ref1", "ref2"],
    eachReference: true,
  }, lookup);
  assert.ok(each.ok);
  assert.deepEqual(
    each.value.rows.map((r) => [r.references, r.name]),
    [[["ref1"], "shoe"], [["ref2"], "bag"]],
  );
  assert.match(
    refusal(plan({ prompts: ["a"], references: ["nope"] }, lookup)),
    /References: no reference image "nope"/,
  );
  assert.match(
    refusal(plan({ prompts: ["a"], eachReference: true }, lookup)),
    /Each image: upload at least one reference image/,
  );
  const many = refs("a", "b", "c", "d");
  assert.match(
    refusal(plan({
      prompts: ["a"],
      model: "gemini-2.5-flash-image",
      references: ["ref0", "ref1", "ref2", "ref3"],
    }, many.lookup)),
    /^row 1: Nano Banana \(2\.5\) takes at most 3 reference images \(this row has 4\)/,
  );
});
