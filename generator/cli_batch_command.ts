/**
 * The two Batch-mode commands as cli.ts starts them: `--batch-mode`
 * (submit) and `--sync DIR` (collect), each stoppable by Ctrl-C or SIGTERM
 * the way a run is. The first signal lets the command finish the result in
 * hand and write the state file and manifest; a second one exits at once.
 */
import { scrubError } from "../core/scrub.ts";
import { submitCliBatch, type SubmitInput } from "./cli_batch_submit.ts";
import { syncCliBatch, type SyncInput } from "./cli_batch_sync.ts";
import { type LineWriter, onTerminate } from "./process_io.ts";

/** Submits the planned batch as jobs at Google; resolves with the exit code. */
export function submitCommand(
  input: Omit<SubmitInput, "signal">,
): Promise<number> {
  return interruptible(
    input.stderr,
    input.apiKey,
    (signal) => submitCliBatch({ ...input, signal }),
  );
}

/** Collects what the folder's jobs have finished; resolves with the exit code. */
export function syncCommand(input: Omit<SyncInput, "signal">): Promise<number> {
  return interruptible(
    input.stderr,
    input.apiKey,
    (signal) => syncCliBatch({ ...input, signal }),
  );
}

async function interruptible(
  stderr: LineWriter,
  apiKey: string,
  run: (signal: AbortSignal) => Promise<number>,
): Promise<number> {
  const interrupt = new AbortController();
  let signalCode: number | undefined;
  const removeListeners = onTerminate((code) => {
    if (interrupt.signal.aborted) Deno.exit(code);
    signalCode = code;
    stderr.write("Interrupted; writing what is known so far…");
    interrupt.abort("shutdown");
  });
  try {
    const code = await run(interrupt.signal);
    return signalCode ?? code;
  } catch (error) {
    // The state file was written before this reached here (see the sync).
    stderr.write(`Failed: ${scrubError(error, [apiKey])}`);
    return signalCode ?? 1;
  } finally {
    removeListeners();
  }
}
