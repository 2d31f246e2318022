/**
 * The generator's side of the shared quota limiter. The job is the first
 * line on stdin; while stdin stays open the server paces this run with the
 * limiter it shares among all the workspace's batches: the generator asks
 * with a `token-request` event and starts a request per `grant` line. A
 * stdin closed after the job (the CLI's tests, a server without a limiter)
 * means "no server limiter": the run paces itself with a local one.
 */
import { isGrantLine } from "../core/protocol_check.ts";
import type { RateLimiter } from "../core/rate_limiter.ts";
import type { StartGate } from "./pool.ts";

/** A start gate fed by the server's grants, local once stdin closes. */
export interface ServerGate extends StartGate {
  grant(): void;
  close(): void;
}

export function createServerGate(
  requestToken: () => void,
  local: RateLimiter,
  clock: () => number = Date.now,
): ServerGate {
  let granted = 0;
  let asked = false;
  let closed = false;
  let wake = () => {};
  return {
    setWake(fn) {
      wake = fn;
    },
    take(now) {
      if (closed) return local.take(now);
      if (granted > 0) {
        const wait = local.take(now);
        if (wait > 0) return wait;
        granted--;
        return 0;
      }
      if (!asked) {
        asked = true;
        requestToken();
      }
      return Infinity;
    },
    grant() {
      asked = false;
      // A grant the server sent before it heard of this run's own 429 is
      // stale: dropped, the pool asks again and the server paces the next.
      if (clock() >= local.pausedUntil) granted++;
      wake();
    },
    close() {
      closed = true;
      wake();
    },
    // The server learns from this run's events; the local limiter learns
    // too, in case the server goes away.
    onRateLimited: (hint, at) => {
      local.onRateLimited(hint, at);
      granted = 0;
    },
    onSuccess: (now) => local.onSuccess(now),
  };
}

/** What stdin gave: the job's text, and the lines after it. */
export interface StdinLines {
  /** The first line (or all of stdin when it had no newline). */
  first: string;
  /** False when stdin ended with the job. */
  open: boolean;
  /** The lines after the first, until stdin closes. */
  rest: AsyncIterable<string>;
}

/** Reads the first line of `stream` and hands back the rest, line by line. */
export async function readStdinLines(
  stream: ReadableStream<Uint8Array>,
): Promise<StdinLines> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let done = false;
  while (!done && !buffer.includes("\n")) {
    const chunk = await reader.read();
    if (chunk.done) {
      done = true;
      buffer += decoder.decode();
    } else buffer += decoder.decode(chunk.value, { stream: true });
  }
  const newline = buffer.indexOf("\n");
  const first = newline < 0 ? buffer : buffer.slice(0, newline);
  buffer = newline < 0 ? "" : buffer.slice(newline + 1);
  async function* rest(): AsyncGenerator<string> {
    while (true) {
      let at;
      while ((at = buffer.indexOf("\n")) >= 0) {
        yield buffer.slice(0, at);
        buffer = buffer.slice(at + 1);
      }
      if (done) break;
      const chunk = await reader.read();
      if (chunk.done) {
        done = true;
        buffer += decoder.decode() + "\n";
      } else buffer += decoder.decode(chunk.value, { stream: true });
    }
  }
  return { first, open: !done, rest: rest() };
}

/** Feeds grant lines to `gate` until the lines end; then it paces locally. */
export async function feedGrants(
  lines: AsyncIterable<string>,
  gate: ServerGate,
): Promise<void> {
  try {
    for await (const line of lines) {
      if (!line.trim()) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        continue;
      }
      if (isGrantLine(parsed)) gate.grant();
    }
  } catch {
    // A broken pipe is a closed one.
  }
  gate.close();
}
