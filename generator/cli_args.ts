/**
 * Command-line options of `deno task generate`, checked against the local
 * model table. The key is never an option: it comes only from the
 * environment (K4), so it cannot end up in shell history or `ps` output.
 */
import { parseArgs } from "node:util";
import { DEFAULTS, LIMITS } from "../core/limits.ts";
import { DEFAULT_MODEL_ID, findModel, KNOWN_MODELS } from "../core/catalog.ts";

// name, min, max, default of each numeric option.
const NUMBER_OPTIONS = [
  ["images-per-prompt", 1, LIMITS.imagesPerPrompt, DEFAULTS.imagesPerPrompt],
  ["concurrency", 1, LIMITS.concurrency, DEFAULTS.concurrency],
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

Generates one or more images per prompt with Google's Gemini image models.
The API key is read only from the GEMINI_API_KEY environment variable.

Options:
  --prompts FILE            one prompt per line, blank lines skipped; every other
                            line is a prompt, including one starting with #
                            (the same rule as a .txt upload in the web app)
  --out DIR                 where images and manifest.json are written
  --model ID                default ${DEFAULT_MODEL_ID}
  --aspect-ratio RATIO      default ${DEFAULTS.aspectRatio}
  --size SIZE               1K, 2K, 4K, 512 (model dependent; default the model's)
  --images-per-prompt N     ${range("images-per-prompt")}
  --concurrency N           parallel requests, ${range("concurrency")}
  --timeout-ms MS           per request, ${range("timeout-ms")}
  --max-attempts N          per image, ${range("max-attempts")}
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
  const aspectRatio = text("aspect-ratio") ?? DEFAULTS.aspectRatio;
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
  for (const [name, min, max, fallback] of NUMBER_OPTIONS) {
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

function range(name: typeof NUMBER_OPTIONS[number][0]): string {
  const [, min, max, fallback] = NUMBER_OPTIONS.find((o) => o[0] === name)!;
  return `${min}–${max}, default ${fallback}`;
}
