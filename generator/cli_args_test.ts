import assert from "node:assert/strict";
import { parseCliArgs, USAGE } from "./cli_args.ts";
import { splitPromptLines } from "../core/prompt_file.ts";

const REQUIRED = ["--prompts", "p.txt", "--out", "out"];

Deno.test("parseCliArgs() applies defaults", () => {
  assert.deepEqual(parseCliArgs(REQUIRED), {
    kind: "run",
    options: {
      promptsFile: "p.txt",
      outDir: "out",
      model: "gemini-nano-banana-2.1",
      aspectRatio: "1:1",
      imageSize: "1K",
      imagesPerPrompt: 1,
      concurrency: 4,
      timeoutMs: 360_000,
      maxAttempts: 4,
    },
  });
});

Deno.test("parseCliArgs() reads every option", () => {
  const parsed = parseCliArgs([
    ...REQUIRED,
    "--model",
    "models/gemini-3-pro-image",
    "--aspect-ratio",
    "16:9",
    "--size",
    "2K",
    "--images-per-prompt",
    "3",
    "--concurrency",
    "8",
    "--timeout-ms",
    "60000",
    "--max-attempts",
    "2",
  ]);
  assert.equal(parsed.kind, "run");
  assert.deepEqual(parsed.kind === "run" && parsed.options, {
    promptsFile: "p.txt",
    outDir: "out",
    model: "gemini-3-pro-image",
    aspectRatio: "16:9",
    imageSize: "2K",
    imagesPerPrompt: 3,
    concurrency: 8,
    timeoutMs: 60_000,
    maxAttempts: 2,
  });
});

Deno.test("parseCliArgs() leaves imageSize out for models that take none", () => {
  const parsed = parseCliArgs([
    ...REQUIRED,
    "--model",
    "gemini-2.5-flash-image",
  ]);
  assert.equal(parsed.kind, "run");
  assert.equal(parsed.kind === "run" && "imageSize" in parsed.options, false);
});

Deno.test("parseCliArgs() rejects bad usage with a clear message", async (t) => {
  const cases: [string[], RegExp][] = [
    [["--out", "o"], /--prompts FILE is required/],
    [["--prompts", "p"], /--out DIR is required/],
    [[...REQUIRED, "--model", "imagen-4.0-generate-001"], /Unknown model/],
    [
      [...REQUIRED, "--aspect-ratio", "8:1", "--model", "gemini-3-pro-image"],
      /not offered/,
    ],
    [[...REQUIRED, "--size", "1k"], /Size "1k" is not offered/],
    [
      [...REQUIRED, "--concurrency", "0"],
      /--concurrency must be a whole number from 1 to 16/,
    ],
    [[...REQUIRED, "--images-per-prompt", "2.5"], /--images-per-prompt/],
    [
      [...REQUIRED, "--timeout-ms", "999"],
      /--timeout-ms must be a whole number from 1000 to 1800000/,
    ],
    [
      [...REQUIRED, "--max-attempts", "11"],
      /--max-attempts must be a whole number from 1 to 10/,
    ],
    [[...REQUIRED, "--api-key", "x"], /Unknown option '--api-key'/],
    [[...REQUIRED, "extra"], /positional/i],
  ];
  for (const [args, message] of cases) {
    await t.step(args.join(" "), () => {
      const parsed = parseCliArgs(args);
      assert.equal(parsed.kind, "error");
      assert.match(parsed.kind === "error" ? parsed.message : "", message);
    });
  }
});

Deno.test("parseCliArgs() answers --help", () => {
  assert.deepEqual(parseCliArgs(["--help"]), { kind: "help" });
  assert.deepEqual(parseCliArgs(["-h"]), { kind: "help" });
});

Deno.test("splitPromptLines() reads a CLI prompts file as the web reads a .txt upload", () => {
  // "#hashtag art" is a real prompt, so # lines are kept, not treated as comments.
  assert.deepEqual(
    splitPromptLines(
      "#hashtag art\r\na red fox\n\n   \n  # indented\n  a blue whale  \n",
    ),
    ["#hashtag art", "a red fox", "# indented", "a blue whale"],
  );
});

Deno.test("USAGE states the prompt-file rule and the limits' ranges", () => {
  assert.match(USAGE, /including one starting with #/);
  assert.match(USAGE, /--concurrency N +parallel requests, 1–16, default 4/);
  assert.match(
    USAGE,
    /--timeout-ms MS +per request, 1000–1800000, default 360000/,
  );
  assert.match(USAGE, /--images-per-prompt N +1–10, default 1/);
});
