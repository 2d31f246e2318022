import assert from "node:assert/strict";
import {
  countExpansions,
  expandTemplate,
  type Expansion,
  hasTemplateSyntax,
  readWildcardFile,
  sampleTemplate,
  type Wildcards,
} from "./templates.ts";
import type { Result } from "./result.ts";
import { LIMITS } from "./limits.ts";

function value<T>(result: Result<T>): T {
  if (!result.ok) assert.fail(result.problem.message);
  return result.value;
}

function refusal(result: Result<unknown>): string {
  if (result.ok) assert.fail(`not refused: ${JSON.stringify(result.value)}`);
  assert.equal(result.problem.code, "invalid_input");
  return result.problem.message;
}

function prompts(template: string, wildcards: Wildcards = {}): string[] {
  return value(expandTemplate(template, wildcards, 1000)).map((e) => e.prompt);
}

/** `{v1|…|v40}` twenty times: 40^20 prompts, far past any integer. */
const HUGE = Array.from(
  { length: 20 },
  (_, i) => `{${Array.from({ length: 40 }, (_, j) => `w${i}.${j}`).join("|")}}`,
).join(" ");

Deno.test("[templates] plain text is one prompt with no choices", () => {
  for (const text of ["a red fox", "snake_case and __ and a_b_", "", "x|y"]) {
    assert.equal(hasTemplateSyntax(text), false, text);
    assert.deepEqual(value(expandTemplate(text, {}, 1)), [
      { prompt: text, choices: [] },
    ]);
    assert.equal(value(countExpansions(text, {})), 1);
  }
  for (const text of ["{a|b}", "a }", "__colors__", "\\{", "\\\\"]) {
    assert.equal(hasTemplateSyntax(text), true, text);
  }
});

Deno.test("[templates] variants expand leftmost-slowest, choices in order", () => {
  assert.deepEqual(value(expandTemplate("a {red|blue} {fox|cat}", {}, 4)), [
    { prompt: "a red fox", choices: ["red", "fox"] },
    { prompt: "a red cat", choices: ["red", "cat"] },
    { prompt: "a blue fox", choices: ["blue", "fox"] },
    { prompt: "a blue cat", choices: ["blue", "cat"] },
  ]);
});

Deno.test("[templates] nested variants, an empty option, one option and whitespace as written", () => {
  assert.deepEqual(value(expandTemplate("{a {b|c}|d}", {}, 3)), [
    { prompt: "a b", choices: ["a b", "b"] },
    { prompt: "a c", choices: ["a c", "c"] },
    { prompt: "d", choices: ["d"] },
  ]);
  assert.deepEqual(value(expandTemplate("{big |}fox", {}, 2)), [
    { prompt: "big fox", choices: ["big"] },
    { prompt: "fox", choices: [""] },
  ]);
  assert.deepEqual(value(expandTemplate("a {x} b{}c", {}, 1)), [
    { prompt: "a x bc", choices: [] },
  ]);
  assert.deepEqual(prompts("<{ a | b }>"), ["< a >", "< b >"]);
});

Deno.test("[templates] a backslash makes { } | _ and itself literal", () => {
  const template = String.raw`\{a\|b\} \_\_x\_\_ \\ \n {c\|d|e}`;
  assert.deepEqual(prompts(template), [
    String.raw`{a|b} __x__ \ \n c|d`,
    String.raw`{a|b} __x__ \ \n e`,
  ]);
  assert.equal(value(countExpansions(String.raw`\{a|b\}`, {})), 1);
});

Deno.test("[templates] wildcards take each value of their list; values may be templates", () => {
  const wildcards = {
    color: ["{light|dark} red", "__shade__ blue"],
    shade: ["pale"],
    "animals/wild": ["fox"],
  };
  assert.deepEqual(
    value(expandTemplate("__color__ __animals/wild__", wildcards, 10)),
    [
      { prompt: "light red fox", choices: ["light red", "light", "fox"] },
      { prompt: "dark red fox", choices: ["dark red", "dark", "fox"] },
      { prompt: "pale blue fox", choices: ["pale blue", "pale", "fox"] },
    ],
  );
  assert.equal(value(countExpansions("__color__", wildcards)), 3);
  assert.deepEqual(prompts("__my_list__!", { my_list: ["x"] }), ["x!"]);
  assert.deepEqual(
    prompts("__a__b__ ___a__ __a_", { a: ["1"] }),
    ["1b__ _1 __a_"],
    "a name is the shortest that ends in __, and never starts or ends with _",
  );
});

Deno.test("[templates] wildcard errors: unknown, empty, a cycle, too deep", () => {
  assert.equal(
    refusal(expandTemplate("a __colors__ fox", {}, 10)),
    'No wildcard list named "colors": upload colors.txt or give it in wildcards.',
  );
  assert.match(
    refusal(countExpansions("__constructor__", {})),
    /^No wildcard list named "constructor"/,
  );
  assert.equal(
    refusal(countExpansions("__none__", { none: [] })),
    'The wildcard list "none" has no values.',
  );
  assert.equal(
    refusal(countExpansions("__me__", { me: ["x", "__me__"] })),
    'The wildcard list "me" refers to itself (me → me).',
  );
  assert.equal(
    refusal(
      sampleTemplate("__a__", { a: ["__b__"], b: ["x {__a__|y}"] }, 1, 1),
    ),
    'The wildcard list "a" refers to itself (a → b → a).',
  );
  const chain = (n: number) =>
    Object.fromEntries(
      Array.from({ length: n }, (_, i) => [`l${i}`, [`__l${i + 1}__`]]).concat(
        [[`l${n}`, ["end"]]],
      ),
    );
  assert.deepEqual(prompts("__l0__", chain(7)), ["end"], "eight lists deep");
  assert.match(
    refusal(countExpansions("__l0__", chain(8))),
    /^Wildcard lists refer to lists more than 8 deep \(l0 → l1 .* → l8\)\.$/,
  );
  assert.equal(
    refusal(countExpansions("__c__", { c: ["ok", "{red"] })),
    'A value of the wildcard list "c" has an unclosed "{" (at character 1).',
  );
});

Deno.test("[templates] an unclosed or stray brace is refused with its position", () => {
  const table: [string, string][] = [
    ["a red {fox|cat", 'an unclosed "{" (at character 7)'],
    ["{a|{b}", 'an unclosed "{" (at character 1)'],
    ["a fox} and {b|c}", 'a stray "}" (at character 6)'],
    ["🦊 {a", 'an unclosed "{" (at character 3)'],
    ["\\{a}", 'a stray "}" (at character 4)'],
  ];
  for (const [template, problem] of table) {
    assert.equal(
      refusal(expandTemplate(template, {}, 10)),
      `The template has ${problem}.`,
    );
    assert.equal(
      refusal(countExpansions(template, {})),
      `The template has ${problem}.`,
    );
  }
  assert.match(
    refusal(countExpansions("{".repeat(100_000), {})),
    /nests "\{" more than/,
  );
});

Deno.test("[templates] counts add within a choice and multiply along a template, saturating", () => {
  assert.equal(value(countExpansions("{a|b|c} {d|e}", {})), 6);
  assert.equal(value(countExpansions("{a {b|c}|d} {e|}", {})), 6);
  const started = performance.now();
  assert.equal(value(countExpansions(HUGE, {})), Number.MAX_SAFE_INTEGER);
  // A list used a thousand times, each value a list of a thousand.
  const shared = {
    x: Array.from({ length: 1000 }, () => "__y__"),
    y: Array.from({ length: 1000 }, (_, i) => `v${i}`),
  };
  assert.equal(
    value(countExpansions("__x__ ".repeat(1000), shared)),
    Number.MAX_SAFE_INTEGER,
  );
  assert.ok(performance.now() - started < 2000, "counted without enumerating");
});

Deno.test("[templates] expandTemplate() refuses past its limit before building anything", () => {
  assert.equal(
    refusal(expandTemplate("{a|b|c}{d|e}", {}, 5)),
    "The template makes 6 prompts; at most 5.",
  );
  assert.equal(value(expandTemplate("{a|b|c}{d|e}", {}, 6)).length, 6);
  assert.equal(
    refusal(expandTemplate(HUGE, {}, 5000)),
    `The template makes at least ${Number.MAX_SAFE_INTEGER} prompts; at most 5000.`,
  );
});

Deno.test("[templates] sampling repeats with a seed, differs across seeds, and suits huge templates", () => {
  const draw = (seed: number) => value(sampleTemplate(HUGE, {}, 50, seed));
  const first = draw(7);
  assert.equal(first.length, 50);
  assert.deepEqual(draw(7), first);
  assert.notDeepEqual(draw(8), first);
  for (const { prompt, choices } of first) {
    assert.equal(choices.length, 20);
    assert.equal(choices.join(" "), prompt);
    choices.forEach((choice, i) =>
      assert.match(choice, new RegExp(`^w${i}\\.`))
    );
  }
});

Deno.test("[templates] a sample is one of the expansions, every option can come up", () => {
  const wildcards = { shade: ["pale", "{deep|dark}"] };
  const template = "{a {b|c}|d} __shade__";
  const all = value(expandTemplate(template, wildcards, 100));
  const key = (e: Expansion) => JSON.stringify(e);
  const drawn = value(sampleTemplate(template, wildcards, 300, 1));
  for (const e of drawn) assert.ok(all.some((x) => key(x) === key(e)), key(e));
  assert.equal(new Set(drawn.map(key)).size, all.length);
  assert.deepEqual(value(sampleTemplate("no choices", {}, 2, 3)), [
    { prompt: "no choices", choices: [] },
    { prompt: "no choices", choices: [] },
  ]);
  assert.deepEqual(value(sampleTemplate(template, wildcards, 0, 1)), []);
  for (const count of [-1, 1.5, Infinity]) {
    assert.match(
      refusal(sampleTemplate(template, wildcards, count, 1)),
      /whole number/,
    );
  }
  assert.match(refusal(sampleTemplate("{a", {}, 1, 1)), /unclosed/);
});

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("[templates] readWildcardFile() reads a text file as one list named after it", () => {
  assert.deepEqual(
    value(readWildcardFile(
      "colors.txt",
      bytes("\uFEFF# warm ones\r\n red \n\n{light|dark} blue\n#no\n"),
    )),
    { colors: ["red", "{light|dark} blue"] },
  );
  assert.deepEqual(value(readWildcardFile("styles/noir.TXT", bytes("a\n"))), {
    "styles/noir": ["a"],
  });
  assert.match(
    refusal(readWildcardFile("my colors.txt", bytes("red\n"))),
    /^"my colors" cannot name a wildcard list/,
  );
  assert.match(
    refusal(readWildcardFile("empty.txt", bytes("# only a comment\n\n"))),
    /"empty" in empty\.txt has no values/,
  );
  assert.match(
    refusal(readWildcardFile("bad.txt", new Uint8Array([0xff]))),
    /not valid UTF-8/,
  );
  const many = Array.from({ length: LIMITS.wildcardValues + 1 }, (_, i) => i);
  assert.match(
    refusal(readWildcardFile("many.txt", bytes(many.join("\n")))),
    /at most 1000/,
  );
});

Deno.test("[templates] readWildcardFile() reads a JSON object of string lists", () => {
  assert.deepEqual(
    value(readWildcardFile(
      "lists.json",
      bytes('{"colors": ["red", " blue "], "animal": ["fox"]}'),
    )),
    { colors: ["red", " blue "], animal: ["fox"] },
  );
  const table: [string, RegExp][] = [
    ["{colors: [", /^lists\.json is not valid JSON\.$/],
    ['["red"]', /must be an object of lists/],
    ["null", /must be an object of lists/],
    [
      '{"colors": ["red", 4]}',
      /"colors" in lists\.json must be an array of strings/,
    ],
    ['{"colors": "red"}', /must be an array of strings/],
    ['{"colors": []}', /has no values/],
    ['{"_x": ["a"]}', /"_x" cannot name a wildcard list/],
  ];
  for (const [text, problem] of table) {
    assert.match(refusal(readWildcardFile("lists.json", bytes(text))), problem);
  }
});
