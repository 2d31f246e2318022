/**
 * What goes into a batch job (gemini-api.md §2.6): the generateContent body
 * of one image, the JSONL of a file input, and the `inputConfig` of a create
 * request. Rows are matched to results by key, so keys are checked here,
 * before anything is sent.
 */
import { FILE_NAME, Refusal } from "./files_wire.ts";
import { type ReferencePart, requestContents } from "./parts.ts";
import { ROW_KEY } from "./batch_wire.ts";

/** One request of a job: BatchGen's key for it and a generateContent body. */
export interface BatchRequestRow {
  key: string;
  request: Record<string, unknown>;
}

/** A job's input: inline rows, or an uploaded JSONL file. */
export type BatchInput =
  | { rows: readonly BatchRequestRow[] }
  | { fileName: string };

/** The MIME type of an uploaded JSONL input file (Google's REST sample). */
export const BATCH_INPUT_MIME_TYPE = "application/jsonl";

const encoder = new TextEncoder();

/** The generateContent body of one image, as the live path sends it. */
export function imageRequestBody(o: {
  prompt: string;
  aspectRatio: string;
  /** Left out when undefined (some models reject it). */
  imageSize?: string;
  references: readonly ReferencePart[];
}): Record<string, unknown> {
  return {
    // Images before the text, copied (parts.ts).
    contents: requestContents(o.prompt, o.references),
    generationConfig: {
      // TEXT too, so a refusal can explain itself (generate.ts does the same).
      responseModalities: ["TEXT", "IMAGE"],
      // One image per request: Google rejects candidateCount > 1.
      candidateCount: 1,
      imageConfig: o.imageSize === undefined
        ? { aspectRatio: o.aspectRatio }
        : { aspectRatio: o.aspectRatio, imageSize: o.imageSize },
    },
  };
}

/**
 * The JSONL of a file input, one `{"key","request"}` line per row, for
 * `uploadFile` with BATCH_INPUT_MIME_TYPE. Throws a TypeError for a key
 * outside ROW_KEY or a repeated one: results are matched by key.
 */
export function batchInputJsonl(
  rows: readonly BatchRequestRow[],
): Uint8Array<ArrayBuffer> {
  checkKeys(rows);
  const lines = rows.map((row) =>
    JSON.stringify({ key: row.key, request: row.request }) + "\n"
  );
  return encoder.encode(lines.join(""));
}

/** The create request's `inputConfig`, or a Refusal for bad input. */
export function inputConfigOf(input: BatchInput): Record<string, unknown> {
  if ("fileName" in input) {
    if (!FILE_NAME.test(input.fileName)) {
      throw invalid("Not an uploaded file name (expected files/<id>)");
    }
    return { fileName: input.fileName };
  }
  if (input.rows.length === 0) throw invalid("A batch job needs rows");
  try {
    checkKeys(input.rows);
  } catch (error) {
    throw invalid((error as Error).message);
  }
  const requests = input.rows.map((row) => ({
    request: row.request,
    metadata: { key: row.key },
  }));
  return { requests: { requests } };
}

function checkKeys(rows: readonly BatchRequestRow[]): void {
  const seen = new Set<string>();
  for (const { key } of rows) {
    if (!ROW_KEY.test(key)) {
      throw new TypeError(`Not a row key (expected ${ROW_KEY.source})`);
    }
    if (seen.has(key)) throw new TypeError(`Row key "${key}" is repeated`);
    seen.add(key);
  }
}

export function invalid(message: string): Refusal {
  return new Refusal({ kind: "invalid-request", message });
}
