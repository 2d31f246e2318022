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
      batch: {
        model: "gemini-nano-banana-2.1",
        aspectRatio: undefined,
        imageSize: undefined,
        imagesPerPrompt: undefined,
        concurrency: "4",
        title: undefined,
        budgetUsd: undefined,
      },
      timeoutMs: 360_000,
      referenceFiles: [],
      wildcardFiles: [],
      dryRun: false,
      maxAttempts: 4,
    },
  });
});

Deno.test("parseCliArgs() passes every batch option on under the JSON API's names", () => {
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
    "--title",
    "Harbours",
    "--budget-usd",
    "2.5",
    "--timeout-ms",
    "60000",
    "--max-attempts",
    "2",
  ]);
  assert.equal(parsed.kind, "run");
  assert.deepEqual(parsed.kind === "run" && parsed.options, {
    promptsFile: "p.txt",
    outDir: "out",
    batch: {
      model: "models/gemini-3-pro-image",
      aspectRatio: "16:9",
      imageSize: "2K",
      imagesPerPrompt: "3",
      concurrency: "8",
      title: "Harbours",
      budgetUsd: "2.5",
    },
    timeoutMs: 60_000,
    maxAttempts: 2,
    referenceFiles: [],
    wildcardFiles: [],
    dryRun: false,
  });
});

Deno.test("parseCliArgs() refuses bad usage with a clear message", async (t) => {
  const cases: [string[], RegExp][] = [
    [["--out", "o"], /--prompts FILE is required/],
    [["--prompts", "p"], /--out DIR is required/],
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

Deno.test("parseCliArgs() reads --batch-mode as the JSON API's mode and --sync DIR alone", async (t) => {
  const batch = parseCliArgs([...REQUIRED, "--batch-mode"]);
  assert.equal(batch.kind === "run" && batch.options.batch.mode, "batch");
  const standard = parseCliArgs(REQUIRED);
  assert.equal(
    standard.kind === "run" && "mode" in standard.options.batch,
    false,
  );
  assert.deepEqual(parseCliArgs(["--sync", "out"]), {
    kind: "sync",
    outDir: "out",
  });
  const cases: [string[], RegExp][] = [
    [
      ["--sync", "out", "--out", "o"],
      /--sync DIR takes no other options \(got --out\)/,
    ],
    [["--sync", "out", "--batch-mode"], /--sync DIR takes no other options/],
    [["--sync", ""], /--sync needs a folder/],
    [
      [...REQUIRED, "--batch-mode", "--timeout-ms", "60000"],
      /--timeout-ms applies to images generated now; --batch-mode sends none/,
    ],
    [
      [...REQUIRED, "--batch-mode", "--max-attempts", "2"],
      /--max-attempts applies/,
    ],
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

Deno.test("USAGE states the prompt-file rules, the base URL variable and the limits' ranges", () => {
  assert.match(USAGE, /the same\s+rules as an upload in the web app/);
  assert.match(USAGE, /BATCHGEN_GEMINI_BASE_URL/);
  assert.match(USAGE, /--concurrency N +parallel requests, 1–16, default 4/);
  assert.match(
    USAGE,
    /--timeout-ms MS +per request, 1000–1800000, default 360000/,
  );
  assert.match(USAGE, /--images-per-prompt N +1–10, default 1/);
  assert.match(USAGE, /--batch-mode/);
  assert.match(USAGE, /--sync DIR/);
  assert.match(USAGE, /3 \(--sync\) jobs still waiting at\s+Google/);
});
