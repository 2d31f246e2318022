/**
 * Child-process mode (design.md §4): the key in the environment, one JSON job
 * as the first line on stdin (then the shared limiter's grants, see
 * server_gate.ts), JSON-line events on stdout, scrubbed free text on stderr. Exit 0
 * when the job ran (even with failed items), non-zero when it could not.
 */
import type { GeneratorEvent, Job } from "../core/protocol.ts";
import { checkJob, encodeEventLean } from "../core/protocol_check.ts";
import { createGeminiRequester } from "../gemini/generate.ts";
import { runPool } from "./pool.ts";
import { createRateLimiter } from "../core/rate_limiter.ts";
import {
  createServerGate,
  feedGrants,
  readStdinLines,
  type StdinLines,
} from "./server_gate.ts";
import { googleReferenceParts } from "./references_google.ts";
import {
  baseUrlFromEnv,
  createLineWriter,
  KEY_VARIABLE,
  type LineWriter,
  onTerminate,
  withProcessEdges,
} from "./process_io.ts";
import { createScrubber, scrubError } from "../core/scrub.ts";
import { removeTempFiles, tempFilePath } from "../lib/storage.ts";
import { holdBatchLock } from "../lib/batch_lock.ts";
import { join } from "node:path";
import { USAGE_JOURNAL_NAME } from "../core/files.ts";

/** Exit code when the job could not run because of bad input. */
export const EXIT_USAGE = 2;
/** Exit code when the job could not run for another reason. */
export const EXIT_FAILURE = 1;

// After a signal, in-flight requests are aborted at once; this only bounds a
// hung file write.
const SIGNAL_GRACE_MS = 5_000;
// After the parent is gone, the requests in flight run to their end (each
// bounded by the request timeout); this bounds the saving after that.
const DRAIN_GRACE_MS = 10_000;

/** Runs one job as the server's child process; resolves with the exit code. */
export function runChild(): Promise<number> {
  return withProcessEdges(runChildWith);
}

async function runChildWith(
  apiKey: string | undefined,
  stderr: LineWriter,
): Promise<number> {
  if (!apiKey) {
    stderr.write(`Cannot run the generator: ${KEY_VARIABLE} is not set`);
    return EXIT_USAGE;
  }
  const input = await readStdinLines(Deno.stdin.readable);
  const job = await parseJob(input, stderr);
  if (!job) return EXIT_USAGE;
  const base = baseUrlFromEnv();
  if (!base.ok) {
    stderr.write(`Cannot run the generator: ${base.problem.message}`);
    return EXIT_USAGE;
  }
  try {
    await Deno.mkdir(job.outputDir, { recursive: true });
  } catch (error) {
    stderr.write(
      `Cannot run the generator: cannot create the output directory: ${
        scrubError(error, [apiKey])
      }`,
    );
    return EXIT_FAILURE;
  }

  // Held for this process's life, released by the OS at its exit: a
  // restarted server waits for it before touching the batch's files.
  let lock: Deno.FsFile | undefined;
  if (job.lockPath) {
    try {
      lock = await holdBatchLock(job.lockPath);
    } catch (error) {
      stderr.write(
        `Cannot run the generator: cannot lock the batch: ${
          scrubError(error, [apiKey])
        }`,
      );
      return EXIT_FAILURE;
    }
  }

  const stdout = createLineWriter(Deno.stdout.writable);
  // Built once: working out the key's fragments costs far more than a scan.
  const scrubber = createScrubber([apiKey]);
  const journal = join(job.outputDir, USAGE_JOURNAL_NAME);
  const emit = (event: GeneratorEvent) => {
    // Messages are scrubbed where they are made; this is the backstop.
    const safe = "message" in event
      ? { ...event, message: scrubber.scrub(event.message) }
      : event;
    const line = encodeEventLean(safe);
    // Noted before it is sent: a server that never reads it can still
    // record what the image cost (USAGE_JOURNAL_NAME).
    if (safe.type === "usage") noteUsage(journal, line);
    stdout.write(line);
  };
  const interrupt = new AbortController();
  let exitCode = 0;
  const stop = (signalCode: number) => {
    if (interrupt.signal.aborted) Deno.exit(signalCode);
    exitCode = signalCode;
    interrupt.abort();
    Deno.unrefTimer(setTimeout(() => Deno.exit(signalCode), SIGNAL_GRACE_MS));
  };
  const removeListeners = onTerminate(stop);
  // The server is gone (killed with SIGKILL): the requests in flight are
  // paid for already, so they finish and their images are saved (the next
  // server adopts the files); nothing new starts. Bounded: a hung request
  // ends at its timeout, and this process at that plus a grace.
  const drain = new AbortController();
  const stopWatching = watchParent(() => {
    stderr.write(
      "Generator draining: the server that started it is gone; " +
        "finishing the requests in flight",
    );
    exitCode = EXIT_FAILURE;
    drain.abort();
    Deno.unrefTimer(
      setTimeout(
        () => Deno.exit(EXIT_FAILURE),
        job.timeoutMs + DRAIN_GRACE_MS,
      ),
    );
  });
  const baseUrl = job.apiBaseUrl ?? base.value;
  const references = googleReferenceParts(job, apiKey, baseUrl);
  // stdin open after the job: the server's shared limiter paces this run.
  const gate = input.open
    ? createServerGate(
      () => emit({ type: "token-request" }),
      createRateLimiter(),
    )
    : undefined;
  if (gate) feedGrants(input.rest, gate);
  try {
    const result = await runPool(job, {
      request: createGeminiRequester({
        apiKey,
        baseUrl,
        // Images are decoded into temp files beside their final names.
        tempFile: () => tempFilePath(job.outputDir),
      }),
      emit,
      signal: interrupt.signal,
      drain: drain.signal,
      secrets: [apiKey],
      references: references.partsFor,
      ...(gate ? { gate } : {}),
    });
    if (result.interrupted) stderr.write("Generator interrupted by a signal");
  } catch (error) {
    stderr.write(`Generator failed: ${scrubError(error, [apiKey])}`);
    exitCode = EXIT_FAILURE;
  } finally {
    // Files uploaded for this run go, however it ended.
    await references.cleanup();
    removeListeners();
    stopWatching();
    // Renamed files stay; temp files of writes cut short go.
    if (exitCode !== 0) await removeTempFiles(job.outputDir).catch(() => 0);
    await stdout.flush();
    lock?.close();
  }
  return exitCode;
}

async function parseJob(
  input: StdinLines,
  stderr: LineWriter,
): Promise<Job | undefined> {
  let raw: unknown;
  try {
    raw = JSON.parse(input.first);
  } catch {
    stderr.write(
      "Cannot run the generator: the job on stdin is not valid JSON",
    );
    return undefined;
  }
  // The hand-written check keeps zod out of start-up; a job it refuses is
  // explained by the schema itself, loaded only then.
  const checked = checkJob(raw);
  if (checked.ok) return checked.job;
  const { jobSchema } = await import("../core/protocol.ts");
  const parsed = jobSchema.safeParse(raw);
  const issues = parsed.success
    ? [checked.problem]
    : parsed.error.issues.map((issue) =>
      `${issue.path.join(".") || "(job)"}: ${issue.message}`
    );
  stderr.write(`Cannot run the generator: invalid job: ${issues.join("; ")}`);
  return undefined;
}

/**
 * A server killed with SIGKILL cannot stop its generator, and an orphan that
 * kept generating would race the restarted server's Resume and pay twice for
 * the same items. The child notices it was re-parented and drains: it stops
 * starting requests, finishes and saves the ones in flight, and exits; its
 * batch lock keeps the restarted server off the batch until then.
 */
function watchParent(onGone: () => void, everyMs = 250): () => void {
  const parent = Deno.ppid;
  const timer = setInterval(() => {
    if (Deno.ppid !== parent) {
      clearInterval(timer);
      onGone();
    }
  }, everyMs);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}

function noteUsage(journal: string, line: string) {
  try {
    Deno.writeTextFileSync(journal, line, { append: true });
  } catch {
    // Only the cost of a crash-adopted image depends on it.
  }
}
