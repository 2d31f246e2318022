/**
 * Command-line options of `deno task generate`, checked against the local
 * model table. The key is never an option: it comes only from the
 * environment (K4), so it cannot end up in shell history or `ps` output.
 */
import { parseArgs } from "node:util";
import { DEFAULT_MODEL_ID, findModel, KNOWN_MODELS } from "../lib/models.ts";

/** Usage text of the CLI. */
export const USAGE =
  `Usage: GEMINI_API_KEY=… deno task generate --prompts FILE --out DIR [options]

Generates one or more images per prompt with Google's Gemini image models.
The API key is read only from the GEMINI_API_KEY environment variable.

Options:
  --prompts FILE            one prompt per line; blank lines and # comments skipped
  --out DIR                 where images and manifest.json are written
  --model ID                default ${DEFAULT_MODEL_ID}
  --aspect-ratio RATIO      default 1:1
  --size SIZE               1K, 2K, 4K, 512 (model dependent; default the model's)
  --images-per-prompt N     1–10, default 1
  --concurrency N           parallel requests, 1–16, default 4
  --timeout-ms MS           per request, default 360000
  --max-attempts N          per image, 1–10, default 4
  -h, --help                show this text

Exit codes: 0 all images saved, 1 some failed, 2 bad usage.
Models: ${KNOWN_MODELS.map((m) => m.id).join(", ")}`;

/** Validated CLI settings. */
export interface CliOptions {
  promptsFile: string;
  outDir: string;
  model: string;
  aspectRatio: string;
  /** Undefined for models that take no `imageSize`. */
  imageSize?: string;
  imagesPerPrompt: number;
  concurrency: number;
  timeoutMs: number;
  maxAttempts: number;
}

/** The result of parsing argv: options, a help request, or an error. */
export type ParsedArgs =
  | { kind: "run"; options: CliOptions }
  | { kind: "help" }
  | { kind: "error"; message: string };

/** Parses and validates the CLI arguments. */
export function parseCliArgs(args: readonly string[]): ParsedArgs {
  let values: Record<string, string | boolean | undefined>;
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
        "timeout-ms": { type: "string" },
        "max-attempts": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (error) {
    return { kind: "error", message: (error as Error).message };
  }
  if (values.help) return { kind: "help" };
  const text = (name: string) => values[name] as string | undefined;
  const promptsFile = text("prompts");
  const outDir = text("out");
  if (!promptsFile) {
    return { kind: "error", message: "--prompts FILE is required" };
  }
  if (!outDir) return { kind: "error", message: "--out DIR is required" };

  const model = findModel(text("model") ?? DEFAULT_MODEL_ID);
  if (!model) {
    return {
      kind: "error",
      message: `Unknown model "${text("model")}"; known models: ${
        KNOWN_MODELS.map((m) => m.id).join(", ")
      }`,
    };
  }
  const aspectRatio = text("aspect-ratio") ?? "1:1";
  if (!model.aspectRatios.includes(aspectRatio)) {
    return {
      kind: "error",
      message: `Aspect ratio "${aspectRatio}" is not offered by ${model.id}; ` +
        `choose one of ${model.aspectRatios.join(", ")}`,
    };
  }
  const size = text("size") ?? model.defaultSize;
  const sizes = model.imageSizes.length > 0
    ? model.imageSizes
    : [model.defaultSize];
  if (!sizes.includes(size)) {
    return {
      kind: "error",
      message: `Size "${size}" is not offered by ${model.id}; choose one of ${
        sizes.join(", ")
      }`,
    };
  }
  const numbers: Record<string, number> = {};
  const ranges = [
    ["images-per-prompt", 1, 10, 1],
    ["concurrency", 1, 16, 4],
    ["timeout-ms", 100, 1_800_000, 360_000],
    ["max-attempts", 1, 10, 4],
  ] as const;
  for (const [name, min, max, fallback] of ranges) {
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
      model: model.id,
      aspectRatio,
      // Models without sizes reject the field, so it is left out entirely.
      ...(model.imageSizes.length > 0 ? { imageSize: size } : {}),
      imagesPerPrompt: numbers["images-per-prompt"]!,
      concurrency: numbers["concurrency"]!,
      timeoutMs: numbers["timeout-ms"]!,
      maxAttempts: numbers["max-attempts"]!,
    },
  };
}

/** Prompts from a file's text: one per line, blanks and `#` lines skipped. */
export function parsePrompts(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith("#"));
}
