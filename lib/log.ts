/**
 * The one logger. Every line is scrubbed (K5) before it is written, with the
 * secrets of the request in scope when there are any.
 */
import { createScrubber } from "../core/scrub.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";

/** Where log lines go; tests pass a collector. */
export type LogSink = (line: string) => void;

/** A logger; `withSecrets` derives one that also scrubs a request's key. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  withSecrets(secrets: readonly string[]): Logger;
}

function stderrSink(line: string) {
  // deno-lint-ignore no-console
  console.error(line);
}

/** Creates a logger writing one scrubbed JSON line per entry. */
export function createLogger(
  sink: LogSink = stderrSink,
  secrets: readonly string[] = [],
): Logger {
  // One per logger: a request's derived logger scrubs many lines with the
  // same key, and the key's fragments are worked out once here.
  const { scrub, scrubValue } = createScrubber(secrets);
  function write(
    level: LogLevel,
    message: string,
    fields: Record<string, unknown> = {},
  ) {
    const entry = {
      time: new Date().toISOString(),
      level,
      message: scrub(message),
      ...scrubValue(fields),
    };
    sink(scrub(JSON.stringify(entry)));
  }
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    withSecrets: (more) => createLogger(sink, [...secrets, ...more]),
  };
}
