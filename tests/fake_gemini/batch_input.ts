/**
 * The input of `batchGenerateContent` (gemini-api.md §2.6): inline requests
 * or a JSONL file uploaded through the Files API, read into rows. A broken
 * JSONL line does not stop the job: Google runs the rest and reports that
 * row as failed, so the fake keeps it as a row with a `problem`. Wording of
 * errors Google was not seen to give is the fake's own.
 */
import { googleError, isRecord, type Outcome } from "./http.ts";
import { rpcError } from "./files_upload.ts";
import type { BatchJob, BatchRow, RpcStatus } from "./batch_job.ts";
import type { FakeState } from "./state.ts";

/** The rows to run, or the 4xx that refused the whole job. */
export type InputResult =
  | { ok: true; input: BatchJob["input"]; rows: BatchRow[] }
  | { ok: false; outcome: Outcome };

const FIELD = "* BatchGenerateContentRequest.batch";
const INVALID_ARGUMENT = 3;

function refuse(outcome: Outcome): InputResult {
  return { ok: false, outcome };
}

/** Reads `batch.inputConfig` of a create request. */
export function readBatchInput(
  state: FakeState,
  batch: Record<string, unknown>,
): InputResult {
  const config = isRecord(batch.inputConfig) ? batch.inputConfig : {};
  const inline = isRecord(config.requests) ? config.requests : undefined;
  const fileName = config.fileName;
  if (inline && fileName !== undefined) {
    // `source` is a proto oneof; Google's JSON parser refuses a second member.
    return refuse(googleError(
      400,
      "Invalid JSON payload received. Oneof field 'source' is already set. Cannot set 'fileName'",
    ));
  }
  if (inline && Array.isArray(inline.requests)) {
    return readInline(inline.requests);
  }
  if (typeof fileName === "string") return readFile(state, fileName);
  return refuse(googleError(
    400,
    `${FIELD}.input_config: input_config is not specified\n`,
  ));
}

function readInline(requests: unknown[]): InputResult {
  if (requests.length === 0) {
    return refuse(googleError(
      400,
      `${FIELD}.input_config.requests.requests: requests is empty\n`,
    ));
  }
  const rows = requests.map((entry): BatchRow => {
    const row = isRecord(entry) ? entry : {};
    const key = isRecord(row.metadata) ? row.metadata.key : undefined;
    return {
      key: typeof key === "string" ? key : undefined,
      metadata: row.metadata,
      request: row.request,
    };
  });
  return { ok: true, input: { kind: "inline" }, rows };
}

function readFile(state: FakeState, fileName: string): InputResult {
  const id = fileName.replace(/^files\//, "");
  const file = state.files.get(`files/${id}`);
  if (!file) {
    // The Files API's answer for an unknown id: it does not tell missing from foreign.
    return refuse(rpcError(
      403,
      "PERMISSION_DENIED",
      `You do not have permission to access the File ${id} or it may not exist.`,
    ));
  }
  if (file.processingGets > 0) {
    return refuse(rpcError(
      400,
      "FAILED_PRECONDITION",
      `The File ${id} is not in an ACTIVE state and usage is not allowed.`,
    ));
  }
  const lines = new TextDecoder().decode(file.bytes).split(/\r?\n/)
    .filter((line) => line.trim() !== "");
  if (lines.length === 0) {
    return refuse(googleError(400, `The File ${id} has no requests.`));
  }
  return {
    ok: true,
    input: { kind: "file", fileName: file.name },
    rows: lines.map(readLine),
  };
}

/** One JSONL line: `{"key": "...", "request": {GenerateContentRequest}}`. */
function readLine(line: string, index: number): BatchRow {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { problem: lineProblem(index, "the line is not JSON") };
  }
  if (!isRecord(value)) {
    return { problem: lineProblem(index, "the line is not a JSON object") };
  }
  const key = typeof value.key === "string" ? value.key : undefined;
  if (!isRecord(value.request)) {
    return { key, problem: lineProblem(index, "it has no 'request' object") };
  }
  return { key, request: value.request };
}

function lineProblem(index: number, why: string): RpcStatus {
  return {
    code: INVALID_ARGUMENT,
    message: `Invalid JSON payload received at line ${index + 1}: ${why}.`,
  };
}
