/**
 * Server side of the generator: spawns the child with the key only in its
 * environment (K4), feeds it the job on stdin, yields validated events from
 * stdout and kills it when the request ends (K6).
 */
import { setPriority } from "node:os";
import { fileURLToPath as fromFileUrl } from "node:url";
import {
  decodeEvent,
  type GeneratorEvent,
  GRANT_LINE,
  type Job,
} from "../core/protocol.ts";
import type { RunPacer } from "./quota_pacer.ts";
import { createScrubber } from "../core/scrub.ts";

// A path, not an import: the generator runs in its own process, started
// through the program's one entry point, as a compiled binary would be.
const ENTRY = fromFileUrl(new URL("../main.ts", import.meta.url));
const PROJECT_ROOT = fromFileUrl(new URL("..", import.meta.url));

export { GENERATOR_MODE } from "./generator_mode.ts";
import { GENERATOR_MODE } from "./generator_mode.ts";

/** The program the server runs as: `deno run`, or a `deno compile` binary. */
export interface Runtime {
  /** True inside a `deno compile` binary (`Deno.build.standalone`). */
  standalone: boolean;
  /** The running executable: `deno`, or the compiled binary itself. */
  execPath: string;
}

/** This process's runtime. */
export function currentRuntime(): Runtime {
  return { standalone: Deno.build.standalone, execPath: Deno.execPath() };
}

/** How to start the generator: program, arguments, working directory. */
export interface GeneratorCommand {
  command: string;
  args: string[];
  cwd?: string;
}

export interface SpawnOptions {
  apiKey: string;
  apiBaseUrl: string;
  /** Environment Deno itself needs (PATH, HOME, DENO_DIR); never a secret. */
  baseEnv: Record<string, string>;
  signal?: AbortSignal;
  /** Receives each scrubbed stderr line. */
  onStderr?: (line: string) => void;
  /** The program to start; this process's own by default. */
  runtime?: Runtime;
  /**
   * The workspace's shared quota limiter: stdin stays open after the job
   * and carries its grants. Without it stdin closes after the job and the
   * generator paces itself.
   */
  pacer?: RunPacer;
}

/** Starts a generator (tests wrap the real one to watch it). */
export type SpawnGenerator = (job: Job, options: SpawnOptions) => GeneratorRun;

/** A running generator. */
export interface GeneratorRun {
  pid: number;
  events: AsyncIterable<GeneratorEvent>;
  /** Resolves with the exit code once the child has exited. */
  exited: Promise<number>;
  kill(): void;
}

/**
 * The generator's command line under `runtime`; never the key (K4), which
 * travels only in the child's environment.
 */
export function generatorCommand(
  target: { apiBaseUrl: string; outputDir: string; lockPath?: string },
  runtime: Runtime = currentRuntime(),
): GeneratorCommand {
  if (runtime.standalone) {
    // A compiled binary is the whole program: it has no `run` and no script
    // path, and its permissions were fixed by `deno compile` (the generator
    // mode gives up the ones it never needs). No cwd: this module's own
    // path is inside the binary's virtual file system, not on disk.
    return { command: runtime.execPath, args: [GENERATOR_MODE] };
  }
  const host = new URL(target.apiBaseUrl).host;
  return {
    command: runtime.execPath,
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      // Everything the generator allocates per image is short-lived (answer
      // chunks, decoded pieces): a small young generation collects it
      // before it adds up (issue 13 §2: peak 106 → 93 MB for 200 images of
      // 2 MB at 8 parallel, and no slower), and V8's size-first mode keeps
      // the old generation from creeping up over a long run (1,000 images:
      // 115–118 → 91–92 MB, same wall time).
      "--v8-flags=--max-semi-space-size=1,--optimize-for-size",
      `--allow-net=${host}`,
      "--allow-read",
      `--allow-write=${
        [target.outputDir, ...(target.lockPath ? [target.lockPath] : [])]
          .join(",")
      }`,
      "--allow-env",
      ENTRY,
      GENERATOR_MODE,
    ],
    // deno.json (imports, lock, node_modules) is found from here.
    cwd: PROJECT_ROOT,
  };
}

/** Arguments of the child process; exported so tests can prove no key is in them. */
export function generatorArgs(apiBaseUrl: string, outputDir: string): string[] {
  return generatorCommand({ apiBaseUrl, outputDir }).args;
}

/** Starts the generator for `job`. */
export function spawnGenerator(job: Job, options: SpawnOptions): GeneratorRun {
  const { command: program, args, cwd } = generatorCommand(
    {
      apiBaseUrl: options.apiBaseUrl,
      outputDir: job.outputDir,
      lockPath: job.lockPath,
    },
    options.runtime,
  );
  const command = new Deno.Command(program, {
    args,
    ...(cwd ? { cwd } : {}),
    clearEnv: true,
    env: {
      ...options.baseEnv,
      GEMINI_API_KEY: options.apiKey,
      BATCHGEN_GEMINI_BASE_URL: options.apiBaseUrl,
      NO_COLOR: "1",
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  });
  const child = command.spawn();
  lowerPriority(child.pid);
  // One scrubber for the child's whole life, not one per line, built on the
  // first line to scrub: a run without stderr never pays for it.
  let scrubber: ReturnType<typeof createScrubber> | undefined;
  const scrub = (text: string) =>
    (scrubber ??= createScrubber([options.apiKey])).scrub(text);
  let killed = false;
  const kill = () => {
    if (killed) return;
    killed = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  };
  options.signal?.addEventListener("abort", kill, { once: true });
  // Aborted before the spawn (Cancel, or the client left while the run was
  // being prepared): "abort" will not fire again, so stop the child now (K6).
  if (options.signal?.aborted) kill();
  const stdin = writeJob(child.stdin, job, options.pacer !== undefined);
  const stderrDone = pipeLines(child.stderr, (line) => {
    options.onStderr?.(scrub(line));
  });
  const exited = Promise.all([child.status, stderrDone]).then(([status]) => {
    options.signal?.removeEventListener("abort", kill);
    options.pacer?.release();
    stdin.close();
    return status.code;
  });
  const pacer = options.pacer;
  const events = readEvents(child.stdout, scrub, options.onStderr);
  return {
    pid: child.pid,
    events: pacer ? paced(events, pacer, stdin.grant) : events,
    exited,
    kill,
  };
}

/**
 * Writes the job as the first stdin line; closes stdin after it unless the
 * run is paced by the server (then `grant` writes grant lines).
 */
function writeJob(
  stdin: WritableStream<Uint8Array>,
  job: Job,
  keepOpen: boolean,
): { grant(): void; close(): void } {
  const writer = stdin.getWriter();
  const encoder = new TextEncoder();
  let closed = false;
  let chain = writer.write(encoder.encode(JSON.stringify(job) + "\n"));
  const close = () => {
    if (closed) return;
    closed = true;
    chain = chain.then(() => writer.close());
    // The child died before reading its job; its exit code tells the story.
    chain.catch(() => {});
  };
  chain.catch(() => {});
  if (!keepOpen) close();
  return {
    grant() {
      if (closed) return;
      chain = chain.then(() => writer.write(encoder.encode(GRANT_LINE)));
      chain.catch(() => {});
    },
    close,
  };
}

/**
 * Answers token requests and feeds the shared limiter with the outcomes as
 * soon as the child's lines arrive, not when the consumer (busy writing the
 * database) asks for the next event: a 429 must slow every start at once.
 */
export function paced(
  events: AsyncIterable<GeneratorEvent>,
  pacer: RunPacer,
  grant: () => void,
): AsyncIterable<GeneratorEvent> {
  const queue: GeneratorEvent[] = [];
  let ended = false;
  let failure: { error: unknown } | undefined;
  let notify = () => {};
  (async () => {
    try {
      for await (const event of events) {
        if (event.type === "token-request") {
          pacer.request(grant);
          continue;
        }
        if (event.type === "rate-limited") pacer.rateLimited(event);
        if (event.type === "image-saved") pacer.succeeded();
        queue.push(event);
        notify();
      }
    } catch (error) {
      failure = { error };
    } finally {
      ended = true;
      pacer.release();
      notify();
    }
  })();
  return (async function* () {
    while (true) {
      const event = queue.shift();
      if (event) {
        yield event;
        continue;
      }
      if (ended) {
        if (failure) throw failure.error;
        return;
      }
      await new Promise<void>((resolve) => (notify = resolve));
    }
  })();
}

async function* readEvents(
  stdout: ReadableStream<Uint8Array>,
  scrub: (text: string) => string,
  onBadLine?: (line: string) => void,
): AsyncGenerator<GeneratorEvent> {
  for await (const line of lines(stdout)) {
    if (!line.trim()) continue;
    try {
      yield decodeEvent(line);
    } catch {
      onBadLine?.(
        `ignored a bad protocol line: ${scrub(line).slice(0, 200)}`,
      );
    }
  }
}

async function pipeLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
) {
  for await (const line of lines(stream)) {
    if (line.trim()) onLine(line);
  }
}

async function* lines(stream: ReadableStream<Uint8Array>) {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const bytes of stream) {
    buffer += decoder.decode(bytes, { stream: true });
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
    }
  }
  if (buffer) yield buffer;
}

/**
 * The niceness generators run at: the lowest priority. With many more
 * generators than cores, at the server's priority they take almost all the
 * CPU (160 of them against one server) and every page waits; niced, the
 * server's pages and bookkeeping go first. A generator mostly waits on
 * Google, and its events need the server anyway. Measured (2 cores, 200
 * batches of 40 images, ~160 generators alive): GET /history p99 666 ms at
 * niceness 0, 246 ms at 10, 67 ms at 19, for the same wall time.
 */
export const GENERATOR_NICENESS = 19;

function lowerPriority(pid: number) {
  try {
    setPriority(pid, GENERATOR_NICENESS);
  } catch {
    // Without `--allow-sys=setPriority` it runs at the server's priority.
  }
}
