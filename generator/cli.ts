/**
 * CLI mode of the generator: the same engine as the child process, with
 * human progress lines on stderr and a `manifest.json` next to the images.
 */
import type { GeneratorEvent, Job } from "../core/protocol.ts";
import { createGeminiRequester } from "../gemini/generate.ts";
import { runPool } from "./pool.ts";
import { type CliOptions, parseCliArgs, USAGE } from "./cli_args.ts";
import { createManifestBuilder } from "./manifest.ts";
import {
  baseUrlFromEnv,
  createLineWriter,
  createStderr,
  guardUncaught,
  KEY_VARIABLE,
  type LineWriter,
  onTerminate,
  redirectConsole,
  takeApiKey,
} from "./process_io.ts";
import { splitPromptLines } from "../core/prompt_file.ts";
import { scrubError, scrubValue } from "../core/scrub.ts";
import { removeTempFiles, writeFileAtomic } from "../lib/storage.ts";

/** Runs the CLI with `args`; resolves with the exit code (0, 1, 2 or 130). */
export async function runCli(args: readonly string[]): Promise<number> {
  // Take the key out of the environment before anything else runs.
  const apiKey = takeApiKey();
  const secrets = apiKey ? [apiKey] : [];
  const stderr = createStderr(secrets);
  redirectConsole(stderr);
  guardUncaught(stderr, secrets);
  const code = await runCliWith(args, apiKey, stderr);
  await stderr.flush();
  return code;
}

async function runCliWith(
  args: readonly string[],
  apiKey: string | undefined,
  stderr: LineWriter,
): Promise<number> {
  const parsed = parseCliArgs(args);
  if (parsed.kind === "help") {
    const stdout = createLineWriter(Deno.stdout.writable);
    stdout.write(USAGE + "\n");
    await stdout.flush();
    return 0;
  }
  if (parsed.kind === "error") {
    stderr.write(`${parsed.message}\nRun with --help for usage.`);
    return 2;
  }
  const options = parsed.options;
  if (!apiKey) {
    stderr.write(
      `Set ${KEY_VARIABLE} in the environment to your Gemini API key`,
    );
    return 2;
  }
  const base = baseUrlFromEnv();
  if (base.error) {
    stderr.write(base.error);
    return 2;
  }
  let prompts: string[];
  try {
    // The web upload's rule, so one file gives the same batch both ways.
    prompts = splitPromptLines(await Deno.readTextFile(options.promptsFile));
  } catch (error) {
    stderr.write(
      `Cannot read prompts file ${options.promptsFile}: ${
        (error as Error).message
      }`,
    );
    return 2;
  }
  if (prompts.length === 0) {
    stderr.write(`No prompts in ${options.promptsFile}`);
    return 2;
  }
  try {
    await Deno.mkdir(options.outDir, { recursive: true });
  } catch (error) {
    stderr.write(
      `Cannot create ${options.outDir}: ${(error as Error).message}`,
    );
    return 2;
  }

  const job = buildJob(options, prompts);
  const manifest = createManifestBuilder(job, {
    imagesPerPrompt: options.imagesPerPrompt,
  });
  const interrupt = new AbortController();
  let exitCode: number | undefined;
  const removeListeners = onTerminate((signalCode) => {
    if (interrupt.signal.aborted) Deno.exit(signalCode);
    exitCode = signalCode;
    stderr.write("Interrupted; finishing files already received…");
    interrupt.abort();
  });
  try {
    const emit = (raw: GeneratorEvent) => {
      // Messages are scrubbed where they are made; this is the backstop
      // before they reach the terminal and the manifest.
      const event = scrubValue(raw, [apiKey]);
      manifest.record(event);
      const line = progressLine(event, manifest.progress());
      if (line) stderr.write(line);
    };
    await runPool(job, {
      request: createGeminiRequester({ apiKey, baseUrl: base.url }),
      emit,
      signal: interrupt.signal,
      secrets: [apiKey],
    });
  } catch (error) {
    stderr.write(`Generator failed: ${scrubError(error, [apiKey])}`);
    exitCode ??= 1;
  } finally {
    removeListeners();
    if (exitCode !== undefined) {
      await removeTempFiles(options.outDir).catch(() => 0);
    }
  }
  const document = manifest.build();
  const path = await writeFileAtomic(
    options.outDir,
    "manifest.json",
    new TextEncoder().encode(JSON.stringify(document, null, 2) + "\n"),
  );
  const { succeeded, failed } = document.counts;
  stderr.write(
    `Done: ${succeeded} saved, ${failed} not saved. Manifest: ${path}`,
  );
  return exitCode ?? (failed === 0 ? 0 : 1);
}

function buildJob(options: CliOptions, prompts: string[]): Job {
  const items = prompts.flatMap((prompt, position) =>
    Array.from({ length: options.imagesPerPrompt }, (_, imageIndex) => ({
      itemId: `${position}-${imageIndex}`,
      position,
      imageIndex,
      prompt,
    }))
  );
  return {
    batchId: `cli-${Date.now()}`,
    model: options.model,
    aspectRatio: options.aspectRatio,
    ...(options.imageSize === undefined
      ? {}
      : { imageSize: options.imageSize }),
    concurrency: options.concurrency,
    outputDir: options.outDir,
    timeoutMs: options.timeoutMs,
    maxAttempts: options.maxAttempts,
    items,
  };
}

/** One human progress line for an event, or undefined for quiet events. */
export function progressLine(
  event: GeneratorEvent,
  progress: { finished: number; total: number; label: (id: string) => string },
): string | undefined {
  const counter = `[${progress.finished}/${progress.total}]`;
  switch (event.type) {
    case "image-saved":
      return `${counter} saved ${event.fileName}` +
        (event.width && event.height
          ? ` (${event.width}×${event.height})`
          : "");
    case "item-failed":
      return `${counter} ${
        progress.label(event.itemId)
      } failed (${event.kind}): ${event.message}`;
    case "item-started":
      return event.attempt > 1
        ? `retrying ${progress.label(event.itemId)} (attempt ${event.attempt})`
        : undefined;
    case "rate-limited":
      return `Rate limited by Google; pausing new requests for ${
        (event.retryAfterMs / 1000).toFixed(1)
      } s`;
    case "batch-stopped":
      return `Stopped (${event.kind}): ${event.message}`;
    default:
      return undefined;
  }
}
