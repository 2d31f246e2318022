/**
 * The one logger. Every line is scrubbed (K5) before it is written, with the
 * secrets of the request in scope when there are any.
 *
 * Two formats (`BATCHGEN_LOG_FORMAT`): "text", the default, writes each entry
 * as it always has; "json" writes exactly one JSON object per line,
 * `{ time, level, message, requestId?, …fields }`, where `requestId` is the
 * id of the HTTP request whose work wrote the line (`withRequestId`, kept
 * across awaits with AsyncLocalStorage, so the engine's lines carry it too).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createScrubber } from "../core/scrub.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";

/** How a line is written: "text" (the default) or one JSON object. */
export type LogFormat = "text" | "json";

/** Where log lines go; tests pass a collector. */
export type LogSink = (line: string) => void;

/**
 * A logger; `withSecrets` derives one that also scrubs a request's key,
 * `withFormat` one that writes the given format to the same sink.
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  withSecrets(secrets: readonly string[]): Logger;
  withFormat(format: LogFormat): Logger;
  /** How this logger writes its lines. */
  readonly format: LogFormat;
}

function stderrSink(line: string) {
  // deno-lint-ignore no-console
  console.error(line);
}

const requestScope = new AsyncLocalStorage<{ requestId: string }>();

/**
 * Runs `fn` with `requestId` as the request id of every line logged by it
 * and by the work it starts (awaits, streams, timers).
 */
export function withRequestId<T>(requestId: string, fn: () => T): T {
  return requestScope.run({ requestId }, fn);
}

/** The request id in scope, if any. */
export function currentRequestId(): string | undefined {
  return requestScope.getStore()?.requestId;
}

/** The keys a JSON line always starts with; fields never replace them. */
const RESERVED = new Set(["time", "level", "message", "requestId"]);

/** Creates a logger writing one scrubbed line per entry. */
export function createLogger(
  sink: LogSink = stderrSink,
  secrets: readonly string[] = [],
  { format = "text" }: { format?: LogFormat } = {},
): Logger {
  // One per logger: a request's derived logger scrubs many lines with the
  // same key, and the key's fragments are worked out once here.
  const { scrub, scrubValue } = createScrubber(secrets);

  function textLine(
    time: string,
    level: LogLevel,
    message: string,
    fields: Record<string, unknown>,
  ): string {
    const entry = {
      time,
      level,
      message: scrub(message),
      ...scrubValue(fields),
    };
    return scrub(JSON.stringify(entry));
  }

  function jsonLine(
    time: string,
    level: LogLevel,
    message: string,
    fields: Record<string, unknown>,
  ): string {
    const requestId = currentRequestId();
    const entry: Record<string, unknown> = {
      time,
      level,
      message: scrub(message),
      ...(requestId === undefined ? {} : { requestId }),
    };
    for (const [name, value] of Object.entries(scrubValue(fields))) {
      entry[RESERVED.has(name) ? `field.${name}` : name] = value;
    }
    const line = scrub(JSON.stringify(entry));
    // The second scrub runs over JSON text: a redaction that cut an escape
    // sequence in two would leave a line no machine can read. Never seen,
    // but the promise is one JSON object per line.
    try {
      JSON.parse(line);
      return line;
    } catch {
      return JSON.stringify({
        time,
        level,
        message: "[log line withheld: its scrubbed text was not valid JSON]",
        ...(requestId === undefined ? {} : { requestId }),
      });
    }
  }

  const render = format === "json" ? jsonLine : textLine;
  function write(
    level: LogLevel,
    message: string,
    fields: Record<string, unknown> = {},
  ) {
    sink(render(new Date().toISOString(), level, message, fields));
  }
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    withSecrets: (more) =>
      createLogger(sink, [...secrets, ...more], { format }),
    withFormat: (other) => createLogger(sink, secrets, { format: other }),
    format,
  };
}
