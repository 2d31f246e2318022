/**
 * A prompts file read as a table: each row a prompt with optional settings of
 * its own (model, aspect ratio, size, count, name, references). CSV and TSV
 * need a header naming the columns; JSON and JSON Lines name them per object;
 * any other file is one prompt per line, as `readPromptFile` reads it.
 *
 * Values are only shaped here (trimmed, empties dropped, references split);
 * the batch validator checks them, so its messages can say "row 14: …".
 */
import { parse } from "csv-parse/sync";
import {
  decodePromptFile,
  type PromptFile,
  PromptFileError,
  splitPromptLines,
} from "./prompt_file.ts";

/** One record of a table file; values raw (strings from CSV/TSV, JSON values from JSON), undefined when the cell is empty. */
export interface TableRow {
  /** 1-based number of the record among the file's data records (header not counted). Used in messages: "row 14: …". */
  row: number;
  prompt: unknown;
  model?: unknown;
  aspectRatio?: unknown;
  imageSize?: unknown;
  imagesPerPrompt?: unknown;
  name?: unknown;
  /** string[] (CSV/TSV cell split on ";" and trimmed, empties dropped; JSON: the array as given, or a string split the same way) */
  references?: unknown;
}

type Field = Exclude<keyof TableRow, "row">;

/**
 * Every accepted spelling of each setting, after `fieldOf` lower-cases the
 * name and turns spaces and hyphens into "_" ("Aspect Ratio" is here). The
 * first is the one messages and docs use.
 */
const SPELLINGS: Readonly<Record<Field, string>> = {
  prompt: "prompt text",
  model: "model",
  aspectRatio: "aspect_ratio aspectratio ratio",
  imageSize: "size image_size imagesize",
  imagesPerPrompt: "count images images_per_prompt imagesperprompt",
  name: "name",
  references: "references reference refs",
};

const ALIASES = new Map<string, Field>(
  (Object.entries(SPELLINGS) as [Field, string][]).flatMap(([field, names]) =>
    names.split(" ").map((name) => [name, field] as const)
  ),
);

/** The column names BatchGen reads, as messages and docs spell them. */
export const TABLE_COLUMNS: readonly string[] = Object.values(SPELLINGS).map(
  (names) => names.split(" ")[0] ?? names,
);

const KNOWN = `columns BatchGen reads: ${TABLE_COLUMNS.join(", ")}`;

/** Readers by the name's extension, else by media type. */
const READERS = new Map<string, (text: string) => TableRow[]>([
  ["csv", (text) => fromDelimited(text, ",", "CSV")],
  ["text/csv", (text) => fromDelimited(text, ",", "CSV")],
  ["tsv", (text) => fromDelimited(text, "\t", "TSV")],
  ["text/tab-separated-values", (text) => fromDelimited(text, "\t", "TSV")],
  ["jsonl", fromJsonLines],
  ["ndjson", fromJsonLines],
  ["json", fromJson],
]);

/** Reads a table file; throws `PromptFileError` saying what is wrong. */
export function readTableFile(file: PromptFile): TableRow[] {
  const text = decodePromptFile(file);
  const extension = /\.([^.]*)$/.exec(file.name.trim().toLowerCase())?.[1];
  // Media type parameters ("; charset=utf-8") do not change the format.
  const type = file.type?.split(";")[0]?.trim().toLowerCase();
  const read = READERS.get(extension ?? "") ?? READERS.get(type ?? "");
  if (read) return read(text);
  return splitPromptLines(text).map((prompt, i) => ({ row: i + 1, prompt }));
}

/** A column or field name as looked up in ALIASES. */
function fieldOf(name: string): Field | undefined {
  return ALIASES.get(name.trim().toLowerCase().replace(/[\s-]+/g, "_"));
}

function fromDelimited(text: string, delimiter: string, kind: string) {
  const records: string[][] = attempt(() =>
    parse(text, {
      delimiter,
      relax_column_count: true,
      // A quote inside a cell ("a "neon" sign") is kept as written; only a
      // quote that opens a cell and never closes is an error.
      relax_quotes: true,
      skip_empty_lines: true,
      bom: true,
    }), (error) => `Cannot read the ${kind} file: ${error}`);
  const first = records[0] ?? [];
  if (first.every((cell) => !fieldOf(cell))) {
    // No header: a plain list of prompts, one per record, as before tables.
    // Trailing empty cells ("a fox,") are padding, not a second column.
    if (records.some((record) => record.findLastIndex((c) => c.trim()) > 0)) {
      throw new PromptFileError(
        `The file has more than one column but no header row: add a first row naming the columns, with a "prompt" column (${KNOWN}).`,
      );
    }
    return rowsOf(records.map((record) => [["prompt", record[0]]]));
  }
  const fields = fieldsOf(first, "column");
  if (!fields.includes("prompt")) {
    throw new PromptFileError('The file needs a "prompt" column.');
  }
  return rowsOf(
    records.slice(1).map((record, index) =>
      record.map((cell, column) => {
        const field = fields[column];
        if (!field && cell.trim()) {
          throw new PromptFileError(
            `row ${index + 1}: column ${
              column + 1
            } has a value but no name in the header row.`,
          );
        }
        return [field, cell] as const;
      })
    ),
  );
}

/**
 * The settings that column or field names give. An unknown name is an error,
 * never dropped, and so are two names for one setting (one would go unread).
 * A blank header cell names nothing: its cells must then be empty.
 */
function fieldsOf(names: string[], noun: string, row?: number) {
  const fields = names.map(fieldOf);
  const say = (text: string) =>
    new PromptFileError(
      row === undefined
        ? text[0]?.toUpperCase() + text.slice(1)
        : `row ${row}: ${text}`,
    );
  const unknown = names.filter((name, i) =>
    !fields[i] && (name.trim() || row !== undefined)
  );
  if (unknown.length > 0) {
    const list = unknown.map((name) => `"${name}"`).join(", ");
    const s = unknown.length > 1 ? "s" : "";
    throw say(`unknown ${noun}${s} ${list} (${KNOWN}).`);
  }
  fields.forEach((field, i) => {
    const j = field ? fields.indexOf(field) : i;
    if (j !== i) {
      throw say(
        `the ${noun}s "${names[j]}" and "${
          names[i]
        }" are the same setting; keep one.`,
      );
    }
  });
  return fields;
}

/**
 * Rows from (field, raw value) pairs, numbered by record; a record with no
 * value at all (",,," or `{}`) is skipped but keeps its number, so later
 * rows keep the numbers a spreadsheet shows.
 */
function rowsOf(
  records: (readonly (readonly [Field | undefined, unknown])[])[],
): TableRow[] {
  const rows: TableRow[] = [];
  records.forEach((pairs, index) => {
    const row: TableRow = { row: index + 1, prompt: undefined };
    let empty = true;
    for (const [field, raw] of pairs) {
      const value = field === "references" ? references(raw) : shaped(raw);
      if (!field || value === undefined) continue;
      row[field] = value;
      empty = false;
    }
    if (!empty) rows.push(row);
  });
  return rows;
}

function shaped(raw: unknown): unknown {
  if (typeof raw !== "string") return raw ?? undefined;
  return raw.trim() || undefined;
}

function references(raw: unknown): unknown {
  if (typeof raw !== "string") return raw ?? undefined;
  const names = raw.split(";").map((name) => name.trim()).filter(Boolean);
  return names.length > 0 ? names : undefined;
}

/** A JSON record: a prompt string, or an object of known fields. */
function pairsOf(value: unknown, row: number) {
  if (typeof value === "string") return [["prompt", value] as const];
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new PromptFileError(
      `row ${row}: needs a prompt string, or an object with a "prompt" field.`,
    );
  }
  const fields = fieldsOf(Object.keys(value), "field", row);
  return Object.values(value).map((raw, i) => [fields[i], raw] as const);
}

function fromJsonLines(text: string): TableRow[] {
  const lines = text.split(/\r?\n/).map((line, i) => [i + 1, line] as const)
    .filter(([, line]) => line.trim());
  return rowsOf(lines.map(([number, line], index) => {
    const value = attempt(
      () => JSON.parse(line),
      () => `Line ${number} of the JSONL file is not valid JSON.`,
    );
    return pairsOf(value, index + 1);
  }));
}

function fromJson(text: string): TableRow[] {
  const value = attempt(
    () => JSON.parse(text),
    (error) => `The JSON file is not valid JSON (${error}).`,
  );
  if (!Array.isArray(value)) {
    throw new PromptFileError(
      'The JSON file must be an array of prompts: strings, or objects with a "prompt" field.',
    );
  }
  return rowsOf(value.map((item: unknown, index) => pairsOf(item, index + 1)));
}

/** A parser's result, or its error in words of ours around its message. */
function attempt<T>(read: () => T, message: (error: string) => string): T {
  try {
    return read();
  } catch (error) {
    throw new PromptFileError(
      message(error instanceof Error ? error.message : String(error)),
    );
  }
}
