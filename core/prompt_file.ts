/**
 * Prompts from a file, the same for a web upload and the CLI's `--prompts`:
 * plain text (one per line), CSV (a `prompt` column, else the first column)
 * or JSON Lines (a string, `{"prompt": …}` or `{"text": …}` per line),
 * chosen by the file's name.
 */
import { parse } from "csv-parse/sync";
import { LIMITS } from "./limits.ts";

/** A file that cannot be read as prompts; the message says why. */
export class PromptFileError extends Error {
  override name = "PromptFileError";
}

/** A prompts file as it arrived: its name, media type if known, and bytes. */
export interface PromptFile {
  name: string;
  type?: string;
  bytes: Uint8Array;
}

/** Reads prompts from a file; throws `PromptFileError` saying what is wrong. */
export function readPromptFile(file: PromptFile): string[] {
  const text = decodePromptFile(file);
  const name = file.name.toLowerCase();
  if (name.endsWith(".csv") || file.type === "text/csv") return fromCsv(text);
  if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) {
    return fromJsonLines(text);
  }
  return splitPromptLines(text);
}

/**
 * The file's text, after the checks every prompts file gets (size, UTF-8),
 * so a table file and a prompt list refuse a bad upload in the same words.
 * A leading BOM is dropped by the decoder.
 */
export function decodePromptFile(file: PromptFile): string {
  if (file.bytes.length > LIMITS.uploadBytes) {
    throw new PromptFileError(
      `The file is too large (${file.bytes.length} bytes; at most ${LIMITS.uploadBytes}).`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(file.bytes);
  } catch {
    throw new PromptFileError("The file is not valid UTF-8 text.");
  }
  return text;
}

/**
 * One prompt per line; blank lines are skipped. A line starting with `#` is a
 * prompt too ("#hashtag art" is a real one). The CLI reads its prompts file
 * with this function, so a file gives the same batch on the web and the CLI.
 */
export function splitPromptLines(text: string): string[] {
  return text.split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
}

function fromCsv(text: string): string[] {
  let rows: string[][];
  try {
    rows = parse(text, {
      relax_column_count: true,
      skip_empty_lines: true,
      bom: true,
    });
  } catch (error) {
    throw new PromptFileError(
      `Cannot read the CSV file: ${
        error instanceof Error ? error.message : error
      }`,
    );
  }
  const header = rows[0]?.map((cell) => cell.trim().toLowerCase()) ?? [];
  const column = header.indexOf("prompt");
  const body = column >= 0 ? rows.slice(1) : rows;
  return body.map((row) => (row[Math.max(column, 0)] ?? "").trim()).filter(
    Boolean,
  );
}

function fromJsonLines(text: string): string[] {
  return splitPromptLines(text).map((line, index) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new PromptFileError(
        `Line ${index + 1} of the JSONL file is not valid JSON.`,
      );
    }
    if (typeof value === "string") return value.trim();
    // `{"prompt": …}`, or `{"text": …}` as many prompt lists write it.
    const record = value && typeof value === "object"
      ? value as Record<string, unknown>
      : {};
    for (const field of ["prompt", "text"]) {
      if (typeof record[field] === "string") {
        return (record[field] as string).trim();
      }
    }
    throw new PromptFileError(
      `Line ${
        index + 1
      } of the JSONL file needs a string, or an object with a "prompt" (or "text") string.`,
    );
  }).filter(Boolean);
}
