import assert from "node:assert/strict";
import { readTableFile, TABLE_COLUMNS, type TableRow } from "./table_file.ts";
import { PromptFileError, readPromptFile } from "./prompt_file.ts";
import { LIMITS } from "./limits.ts";

const KNOWN =
  "(columns BatchGen reads: prompt, model, aspect_ratio, size, count, name, references)";

function read(name: string, text: string, type?: string): TableRow[] {
  return readTableFile({ name, type, bytes: new TextEncoder().encode(text) });
}

/** The message of the PromptFileError that reading the file throws. */
function refusal(name: string, text: string, type?: string): string {
  try {
    read(name, text, type);
  } catch (error) {
    assert.ok(error instanceof PromptFileError, String(error));
    return error.message;
  }
  assert.fail(`${name} was read without an error`);
}

Deno.test("readTableFile() reads a CSV with every column, trimmed, empties left out", () => {
  const csv = [
    "prompt,model,aspect_ratio,size,count,name,references",
    " a red fox ,gemini-x, 16:9 ,2K,3,fox, fox.png ; den.jpg ;; ",
    "a wren,,,,,,",
  ].join("\n");
  assert.deepEqual(read("batch.csv", csv), [
    {
      row: 1,
      prompt: "a red fox",
      model: "gemini-x",
      aspectRatio: "16:9",
      imageSize: "2K",
      imagesPerPrompt: "3",
      name: "fox",
      references: ["fox.png", "den.jpg"],
    },
    { row: 2, prompt: "a wren" },
  ]);
  assert.deepEqual(TABLE_COLUMNS, [
    "prompt",
    "model",
    "aspect_ratio",
    "size",
    "count",
    "name",
    "references",
  ]);
});

Deno.test("readTableFile() knows each column by its aliases, in any case and spacing", () => {
  const table: [string, keyof TableRow][] = [
    ["text", "prompt"],
    ["Model", "model"],
    ["aspect_ratio", "aspectRatio"],
    ["aspectratio", "aspectRatio"],
    ["Aspect Ratio", "aspectRatio"],
    ["ratio", "aspectRatio"],
    ["size", "imageSize"],
    ["image_size", "imageSize"],
    ["ImageSize", "imageSize"],
    ["count", "imagesPerPrompt"],
    ["images", "imagesPerPrompt"],
    ["images_per_prompt", "imagesPerPrompt"],
    ["imagesPerPrompt", "imagesPerPrompt"],
    ["  NAME ", "name"],
    ["references", "references"],
    ["reference", "references"],
    ["refs", "references"],
  ];
  for (const [column, field] of table) {
    const header = field === "prompt" ? column : `prompt,${column}`;
    const cells = field === "prompt" ? "v" : "p,v";
    const [row] = read("t.csv", `${header}\n${cells}\n`);
    const expected = field === "references" ? ["v"] : "v";
    assert.deepEqual(row?.[field], expected, column);
  }
});

Deno.test("readTableFile() refuses unknown and doubled columns rather than drop them", () => {
  assert.equal(
    refusal("t.csv", "prompt,style\na fox,noir\n"),
    `Unknown column "style" ${KNOWN}.`,
  );
  assert.equal(
    refusal("t.csv", "Style,prompt,seed\nnoir,a fox,4\n"),
    `Unknown columns "Style", "seed" ${KNOWN}.`,
  );
  assert.equal(
    refusal("t.csv", "prompt,text\na,b\n"),
    'The columns "prompt" and "text" are the same setting; keep one.',
  );
});

Deno.test("readTableFile() needs a prompt column once there is a header", () => {
  assert.equal(
    refusal("t.csv", "model,size\ngemini-x,2K\n"),
    'The file needs a "prompt" column.',
  );
});

Deno.test("readTableFile() reads a CSV without a header as one prompt per record, only with one column", () => {
  assert.deepEqual(
    read("t.csv", 'a fox\n"a wren, singing"\nan owl,\n'),
    [
      { row: 1, prompt: "a fox" },
      { row: 2, prompt: "a wren, singing" },
      { row: 3, prompt: "an owl" },
    ],
    "a quoted comma and a trailing empty cell keep one column",
  );
  assert.match(
    refusal("t.csv", "a fox\na wren,gemini-x\n"),
    /^The file has more than one column but no header row: .*"prompt" column/,
  );
  assert.deepEqual(read("t.csv", ""), []);
});

Deno.test("readTableFile() says where the CSV quoting breaks, and keeps quotes inside a cell", () => {
  assert.match(
    refusal("t.csv", 'prompt,model\na fox,x\n"a wren,y\n'),
    /^Cannot read the CSV file: Quote Not Closed.* line 3/,
  );
  assert.deepEqual(read("t.csv", 'prompt\na "neon" sign\n"say ""hi"""\n'), [
    { row: 1, prompt: 'a "neon" sign' },
    { row: 2, prompt: 'say "hi"' },
  ]);
});

Deno.test("readTableFile() refuses a value in a column the header does not name", () => {
  assert.equal(
    refusal("t.csv", "prompt,model\na,m\nb,m,extra\n"),
    "row 2: column 3 has a value but no name in the header row.",
  );
  assert.equal(
    refusal("t.csv", "prompt,,model\na,x,m\n"),
    "row 1: column 2 has a value but no name in the header row.",
  );
  assert.deepEqual(read("t.csv", "prompt,,model\na,,m,\n"), [
    { row: 1, prompt: "a", model: "m" },
  ]);
});

Deno.test("readTableFile() reads TSV by name or media type, with commas kept in cells", () => {
  const tsv = "prompt\tsize\na fox, at dusk\t1K\n";
  const expected = [{ row: 1, prompt: "a fox, at dusk", imageSize: "1K" }];
  assert.deepEqual(read("t.TSV", tsv), expected);
  assert.deepEqual(read("upload", tsv, "text/tab-separated-values"), expected);
  assert.deepEqual(
    read("upload", "prompt,size\na,1K\n", "text/csv; charset=utf-8"),
    [{ row: 1, prompt: "a", imageSize: "1K" }],
  );
  assert.match(
    refusal("t.tsv", 'prompt\n"open\n'),
    /^Cannot read the TSV file/,
  );
});

Deno.test("readTableFile() numbers data records; blank records are skipped but keep their number", () => {
  const csv = "prompt,model\n\na,\n,,\n\n,gemini-x\nb,\n";
  assert.deepEqual(read("t.csv", csv), [
    { row: 1, prompt: "a" },
    { row: 3, prompt: undefined, model: "gemini-x" },
    { row: 4, prompt: "b" },
  ]);
});

Deno.test("readTableFile() ignores a byte order mark", () => {
  assert.deepEqual(read("t.csv", "\uFEFFprompt,model\na,m\n"), [
    { row: 1, prompt: "a", model: "m" },
  ]);
  assert.deepEqual(read("t.json", '\uFEFF["a"]'), [{ row: 1, prompt: "a" }]);
  assert.deepEqual(read("t.txt", "\uFEFFa\n"), [{ row: 1, prompt: "a" }]);
});

Deno.test("readTableFile() reads JSON Lines: strings or objects, blank lines skipped", () => {
  const jsonl = [
    '"a fox"',
    "",
    '{"Prompt": " a wren ", "count": 2, "aspectRatio": "4:3"}',
    '{"text": "an owl", "references": "owl.png; tree.png"}',
    '{"prompt": "a cat", "refs": ["cat.png", 7], "name": null}',
    "{}",
  ].join("\r\n");
  assert.deepEqual(read("t.jsonl", jsonl), [
    { row: 1, prompt: "a fox" },
    { row: 2, prompt: "a wren", imagesPerPrompt: 2, aspectRatio: "4:3" },
    { row: 3, prompt: "an owl", references: ["owl.png", "tree.png"] },
    { row: 4, prompt: "a cat", references: ["cat.png", 7] },
  ]);
  assert.deepEqual(read("t.NDJSON", '"a"\n'), [{ row: 1, prompt: "a" }]);
});

Deno.test("readTableFile() says which JSON Lines line or row is wrong", () => {
  assert.equal(
    refusal("t.jsonl", '"a"\n\n{oops\n'),
    "Line 3 of the JSONL file is not valid JSON.",
  );
  assert.equal(
    refusal("t.jsonl", '"a"\n\n{"prompt": "b", "seed": 4}\n'),
    `row 2: unknown field "seed" ${KNOWN}.`,
  );
  assert.equal(
    refusal("t.jsonl", "42\n"),
    'row 1: needs a prompt string, or an object with a "prompt" field.',
  );
  assert.equal(
    refusal("t.jsonl", '{"prompt": "a", "text": "b"}\n'),
    'row 1: the fields "prompt" and "text" are the same setting; keep one.',
  );
});

Deno.test("readTableFile() reads a JSON array of strings and objects, numbers kept", () => {
  const json = JSON.stringify([
    "a fox",
    { prompt: "a wren", count: 3, size: "4K", model: "" },
    "",
    { model: "gemini-x" },
  ]);
  assert.deepEqual(read("t.json", json), [
    { row: 1, prompt: "a fox" },
    { row: 2, prompt: "a wren", imagesPerPrompt: 3, imageSize: "4K" },
    { row: 4, prompt: undefined, model: "gemini-x" },
  ]);
});

Deno.test("readTableFile() refuses JSON that is not an array of prompts", () => {
  assert.match(
    refusal("t.json", '{"prompts": ["a"]}'),
    /^The JSON file must be an array of prompts/,
  );
  assert.match(refusal("t.json", "[1,"), /^The JSON file is not valid JSON \(/);
  assert.equal(
    refusal("t.json", '["a", "b", {"prompt": "c", "Seed": 1, "style": "x"}]'),
    `row 3: unknown fields "Seed", "style" ${KNOWN}.`,
  );
  assert.match(refusal("t.json", '["a", ["b"]]'), /^row 2: needs a prompt/);
});

Deno.test("readTableFile() reads any other file as one prompt per line", () => {
  const text = "a fox, at dusk\r\n\n  #hashtag art  \nprompt,model\n";
  const expected = [
    { row: 1, prompt: "a fox, at dusk" },
    { row: 2, prompt: "#hashtag art" },
    { row: 3, prompt: "prompt,model" },
  ];
  assert.deepEqual(read("t.txt", text), expected);
  assert.deepEqual(read("prompts", text), expected);
  assert.deepEqual(read("t.csv.txt", text), expected);
});

Deno.test("readTableFile() refuses a large or non-UTF-8 file in readPromptFile's words", () => {
  const messageOf = (read: () => unknown) => {
    try {
      read();
    } catch (error) {
      assert.ok(error instanceof PromptFileError);
      return error.message;
    }
    assert.fail("no error");
  };
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array(LIMITS.uploadBytes + 1), /^The file is too large/],
    [new Uint8Array([0x61, 0xff, 0x0a]), /^The file is not valid UTF-8 text/],
  ];
  for (const [bytes, pattern] of cases) {
    const file = { name: "t.csv", bytes };
    const message = messageOf(() => readTableFile(file));
    assert.match(message, pattern);
    assert.equal(message, messageOf(() => readPromptFile(file)));
  }
});
