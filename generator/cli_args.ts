/**
 * Command-line options of `deno task generate`. The batch options become the
 * same raw input the JSON API takes, checked by the one validator
 * (core/batch_input.ts): the CLI accepts and refuses what the API does, with
 * the same messages. Only the options a script run alone needs (files,
 * timeout, attempts) are checked here. The key is never an option: it comes
 * only from the environment (K4), so it cannot end up in shell history or
 * `ps` output.
 */
import { parseArgs } from "node:util";
import { DEFAULTS, LIMITS } from "../core/limits.ts";
import { DEFAULT_MODEL_ID, KNOWN_MODELS } from "../core/catalog.ts";
import { STATE_NAME } from "./cli_batch_state.ts";

// name, min, max, default of each numeric option the API does not have.
const RUN_OPTIONS = [
  [
    "timeout-ms",
    LIMITS.minRequestTimeoutMs,
    LIMITS.requestTimeoutMs,
    DEFAULTS.requestTimeoutMs,
  ],
  ["max-attempts", 1, LIMITS.maxAttempts, DEFAULTS.maxAttempts],
] as const;

/** Usage text of the CLI. */
export const USAGE =
  `Usage: GEMINI_API_KEY=… deno task generate --prompts FILE --out DIR [options]
       GEMINI_API_KEY=… deno task generate --sync DIR

Generates one or more images per prompt with Google's Gemini image models,
now or (--batch-mode) as jobs at Google's Batch API, collected by --sync.
The API key is read only from the GEMINI_API_KEY environment variable;
BATCHGEN_GEMINI_BASE_URL overrides Google's address, as for the server.

Options:
  --prompts FILE            .txt (one prompt per line, blank lines skipped),
                            .csv/.tsv (a "prompt" column and optional model,
                            aspect_ratio, size, count, name, references
                            columns), .jsonl or .json: the same
                            rules as an upload in the web app
  --out DIR                 where images and manifest.json are written
  --model ID                default ${DEFAULT_MODEL_ID}
  --aspect-ratio RATIO      default ${DEFAULTS.aspectRatio}
  --size SIZE               1K, 2K, 4K, 512 (model dependent; default the model's)
  --images-per-prompt N     1–${LIMITS.imagesPerPrompt}, default ${DEFAULTS.imagesPerPrompt}
  --concurrency N           parallel requests, 1–${LIMITS.concurrency}, default ${DEFAULTS.concurrency}
  --title TEXT              the batch's title in manifest.json
  --budget-usd USD          stop before the estimated Google usage passes this
  --reference FILE          a reference image (PNG, JPEG, WebP), repeatable;
                            sent with every row unless rows name theirs
  --each-reference          one row per reference image
  --templates               expand {a|b} variants and __name__ wildcards
  --wildcards FILE          a wildcard list (name.txt, or .json of lists),
                            repeatable
  --sample N                N random picks per template instead of all
  --seed N                  seed of --sample (default 1)
  --matrix-model IDS        comma-separated: every row with every model
  --matrix-aspect-ratio R   comma-separated ratios, likewise
  --matrix-size SIZES       comma-separated sizes, likewise
  --dry-run                 print the planned rows and estimate; send nothing
  --batch-mode              submit the batch as jobs at Google's Batch API
                            (about half the price, results within 24 h)
                            instead of generating now; writes
                            DIR/${STATE_NAME} and exits
  --sync DIR                check the jobs submitted into DIR and save every
                            finished result there; repeat until exit code 0/1
  --timeout-ms MS           per request, ${range("timeout-ms")}
  --max-attempts N          per image, ${range("max-attempts")}
                            (neither applies with --batch-mode)
  -h, --help                show this text

Limits and messages are those of the web app and the JSON API.
Exit codes: 0 all images saved, 1 some failed (or Google refused a
--sync check), 2 bad usage or bad input, 3 (--sync) jobs still waiting at
Google or a download cut short: run --sync again later.
Models: ${KNOWN_MODELS.map((m) => m.id).join(", ")}`;

/** What the command line asks for. */
export interface CliOptions {
  promptsFile: string;
  outDir: string;
  /** Raw batch input for core/batch_input.ts (the JSON API's field names). */
  batch: Record<string, unknown>;
  referenceFiles: string[];
  wildcardFiles: string[];
  dryRun: boolean;
  timeoutMs: number;
  maxAttempts: number;
}

/** The result of parsing argv: options, a sync, a help request, or an error. */
export type ParsedArgs =
  | { kind: "run"; options: CliOptions }
  | { kind: "sync"; outDir: string }
  | { kind: "help" }
  | { kind: "error"; message: string };

/** Parses the CLI arguments; batch values are checked later, with the prompts. */
export function parseCliArgs(args: readonly string[]): ParsedArgs {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        prompts: { type: "string" },
        out: { type: "string" },
        model: { type: "string" },
        "aspect-ratio": { type: "string" },
        size: { type: "string" },
        "images-per-prompt": { type: "string" },
        concurrency: { type: "string" },
        title: { type: "string" },
        "budget-usd": { type: "string" },
        "timeout-ms": { type: "string" },
        "max-attempts": { type: "string" },
        reference: { type: "string", multiple: true },
        "each-reference": { type: "boolean" },
        templates: { type: "boolean" },
        wildcards: { type: "string", multiple: true },
        sample: { type: "string" },
        seed: { type: "string" },
        "matrix-model": { type: "string" },
        "matrix-aspect-ratio": { type: "string" },
        "matrix-size": { type: "string" },
        "dry-run": { type: "boolean" },
        "batch-mode": { type: "boolean" },
        sync: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (error) {
    return { kind: "error", message: (error as Error).message };
  }
  if (values.help) return { kind: "help" };
  const text = (name: string) => values[name] as string | undefined;
  const given = Object.keys(values).filter((k) => values[k] !== undefined);
  if (given.includes("sync")) {
    // Everything a sync needs is in the folder's state file; another option
    // would suggest it changes something, and it cannot.
    const other = given.find((k) => k !== "sync");
    if (other) {
      return {
        kind: "error",
        message: `--sync DIR takes no other options (got --${other})`,
      };
    }
    return text("sync")
      ? { kind: "sync", outDir: text("sync")! }
      : { kind: "error", message: "--sync needs a folder" };
  }
  const batchMode = values["batch-mode"] === true;
  const nowOnly = ["timeout-ms", "max-attempts"].find((k) => given.includes(k));
  if (batchMode && nowOnly) {
    // Google runs a Batch job's requests itself; these would do nothing.
    return {
      kind: "error",
      message:
        `--${nowOnly} applies to images generated now; --batch-mode sends none`,
    };
  }
  const promptsFile = text("prompts");
  const outDir = text("out");
  if (!promptsFile) {
    return { kind: "error", message: "--prompts FILE is required" };
  }
  if (!outDir) return { kind: "error", message: "--out DIR is required" };
  const list = (name: string) =>
    text(name)?.split(",").map((v) => v.trim()).filter(Boolean);
  const matrix = Object.fromEntries(
    [
      ["model", list("matrix-model")],
      ["aspectRatio", list("matrix-aspect-ratio")],
      ["imageSize", list("matrix-size")],
    ].filter(([, values]) => values && values.length > 0),
  );
  const numbers: Record<string, number> = {};
  for (const [name, min, max, fallback] of RUN_OPTIONS) {
    const raw = text(name);
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      return {
        kind: "error",
        message: `--${name} must be a whole number from ${min} to ${max}`,
      };
    }
    numbers[name] = value;
  }
  return {
    kind: "run",
    options: {
      promptsFile,
      outDir,
      batch: {
        model: text("model") ?? DEFAULT_MODEL_ID,
        aspectRatio: text("aspect-ratio"),
        imageSize: text("size"),
        imagesPerPrompt: text("images-per-prompt"),
        concurrency: text("concurrency") ?? String(DEFAULTS.concurrency),
        title: text("title"),
        budgetUsd: text("budget-usd"),
        ...(values["each-reference"] ? { eachReference: true } : {}),
        ...(values.templates ? { expandTemplates: true } : {}),
        ...(text("sample") === undefined ? {} : {
          sample: { count: text("sample"), seed: text("seed") ?? "1" },
        }),
        ...(Object.keys(matrix).length > 0 ? { matrix } : {}),
        ...(batchMode ? { mode: "batch" } : {}),
      },
      referenceFiles: (values.reference as string[] | undefined) ?? [],
      wildcardFiles: (values.wildcards as string[] | undefined) ?? [],
      dryRun: values["dry-run"] === true,
      timeoutMs: numbers["timeout-ms"]!,
      maxAttempts: numbers["max-attempts"]!,
    },
  };
}

function range(name: typeof RUN_OPTIONS[number][0]): string {
  const [, min, max, fallback] = RUN_OPTIONS.find((o) => o[0] === name)!;
  return `${min}–${max}, default ${fallback}`;
}
