/**
 * CLI mode of the generator: the same engine as the child process, with
 * human progress lines on stderr and a `manifest.json` next to the images.
 */
import type { GeneratorEvent, Job } from "../core/protocol.ts";
import { requestImageSize } from "../core/catalog.ts";
import { MANIFEST_NAME } from "../core/files.ts";
import { createScrubber, scrubError } from "../core/scrub.ts";
import { createGeminiRequester } from "../gemini/generate.ts";
import {
  removeTempFiles,
  tempFilePath,
  writeFileAtomic,
} from "../lib/storage.ts";
import { runPool } from "./pool.ts";
import { parseCliArgs, USAGE } from "./cli_args.ts";
import { createCliRecords } from "./cli_records.ts";
import { dryRunSummary, planFromFiles } from "./cli_inputs.ts";
import { googleReferenceParts } from "./references_google.ts";
import { submitCommand, syncCommand } from "./cli_batch_command.ts";
import { readBatchState } from "./cli_batch_state.ts";

export { dryRunSummary, planCliBatch } from "./cli_inputs.ts";
import {
  baseUrlFromEnv,
  createLineWriter,
  KEY_VARIABLE,
  type LineWriter,
  onTerminate,
  withProcessEdges,
} from "./process_io.ts";

/**
 * Runs the CLI with `args`; resolves with the exit code (0, 1, 2, 130/143;
 * 3 when `--sync` finds jobs still at Google).
 */
export function runCli(args: readonly string[]): Promise<number> {
  return withProcessEdges((apiKey, stderr) => runCliWith(args, apiKey, stderr));
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
  // A sync's folder is checked first: no key is needed to learn it is wrong.
  const synced = parsed.kind === "sync"
    ? await readBatchState(parsed.outDir)
    : undefined;
  if (synced && !synced.ok) {
    stderr.write(synced.message);
    return 2;
  }
  if (!apiKey) {
    stderr.write(
      `Set ${KEY_VARIABLE} in the environment to your Gemini API key`,
    );
    return 2;
  }
  const base = baseUrlFromEnv();
  if (!base.ok) {
    stderr.write(base.problem.message);
    return 2;
  }
  if (parsed.kind === "sync") {
    return synced?.ok
      ? await syncCommand({
        outDir: parsed.outDir,
        state: synced.state,
        apiKey,
        baseUrl: base.value,
        stderr,
      })
      : 2;
  }
  const options = parsed.options;
  const planned = await planFromFiles(options, apiKey);
  if (!planned.ok) {
    // Every field's message, one per line: the API's `fields`, as text.
    const messages = Object.values(planned.problem.fields ?? {});
    stderr.write(
      (messages.length > 0 ? messages : [planned.problem.message]).join("\n"),
    );
    return 2;
  }
  const { plan, referencePaths } = planned.value;
  if (options.dryRun) {
    const stdout = createLineWriter(Deno.stdout.writable);
    stdout.write(JSON.stringify(dryRunSummary(plan), null, 2) + "\n");
    await stdout.flush();
    return 0;
  }
  // Batch mode checks its folder and budget first, then makes the folder.
  if (plan.mode === "batch") {
    return await submitCommand({
      plan,
      referencePaths,
      outDir: options.outDir,
      apiKey,
      baseUrl: base.value,
      stderr,
    });
  }
  try {
    await Deno.mkdir(options.outDir, { recursive: true });
  } catch (error) {
    stderr.write(
      `Cannot create ${options.outDir}: ${scrubError(error, [apiKey])}`,
    );
    return 2;
  }

  const records = createCliRecords(plan, `cli-${Date.now()}`);
  const job: Job = {
    batchId: records.batch.id,
    model: records.batch.model,
    aspectRatio: records.batch.settings.aspectRatio,
    imageSize: requestImageSize(
      records.batch.model,
      records.batch.settings.imageSize,
    ),
    concurrency: records.batch.settings.concurrency,
    outputDir: options.outDir,
    timeoutMs: options.timeoutMs,
    maxAttempts: options.maxAttempts,
    items: records.jobItems(),
    references: plan.references.map((ref) => ({
      sha256: ref.sha256,
      mimeType: ref.mimeType,
      path: referencePaths.get(ref.sha256)!,
    })),
    ...(records.batch.budgetUsd === null
      ? {}
      : { budgetUsd: records.batch.budgetUsd }),
  };
  const interrupt = new AbortController();
  let exitCode: number | undefined;
  let stopMessage: string | null = null;
  const removeListeners = onTerminate((signalCode) => {
    if (interrupt.signal.aborted) Deno.exit(signalCode);
    exitCode = signalCode;
    stderr.write("Interrupted; finishing files already received…");
    interrupt.abort("shutdown");
  });
  // Built once: working out the key's fragments costs far more than a scan.
  const scrubber = createScrubber([apiKey]);
  try {
    const emit = (raw: GeneratorEvent) => {
      // Messages are scrubbed where they are made; this is the backstop
      // before they reach the terminal and the manifest.
      const event = scrubber.scrubValue(raw);
      if (event.type === "batch-stopped") stopMessage = event.message;
      records.apply(event);
      const line = progressLine(event, records.progress());
      if (line) stderr.write(line);
    };
    const references = googleReferenceParts(job, apiKey, base.value);
    try {
      await runPool(job, {
        request: createGeminiRequester({
          apiKey,
          baseUrl: base.value,
          // Streamed like the child's: images decoded into temp files.
          tempFile: () => tempFilePath(job.outputDir),
        }),
        emit,
        signal: interrupt.signal,
        secrets: [apiKey],
        references: references.partsFor,
      });
    } finally {
      // Files uploaded for this run go, however it ended.
      await references.cleanup();
    }
  } catch (error) {
    stderr.write(`Generator failed: ${scrubError(error, [apiKey])}`);
    exitCode ??= 1;
  } finally {
    removeListeners();
    if (exitCode !== undefined) {
      await removeTempFiles(options.outDir).catch(() => 0);
    }
  }
  const document = records.finish({
    abortReason: interrupt.signal.aborted ? interrupt.signal.reason : undefined,
    stopMessage,
    exitCode: exitCode ?? 0,
  });
  const path = await writeFileAtomic(
    options.outDir,
    MANIFEST_NAME,
    new TextEncoder().encode(JSON.stringify(document, null, 2) + "\n"),
  );
  const { succeeded, failed } = document.batch.counts;
  const notSaved = document.batch.counts.items - succeeded;
  stderr.write(
    `Done: ${succeeded} saved, ${notSaved} not saved (${failed} failed or blocked). Manifest: ${path}`,
  );
  return exitCode ?? (notSaved === 0 ? 0 : 1);
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
