/**
 * Ending a batch job: running its rows once (so repeated GETs show the same
 * results) and, for file input, writing the JSONL results file into the
 * Files store as `files/batch-<job id>`, the name Google gives it. Google's
 * ids are 36 characters, so that file id has 42, past the Files API's
 * 40-character limit: GET and DELETE of it fail (batch_files.ts) while
 * `:download` works, as reported against Google (js-genai #1227,
 * python-genai #1613, #1759).
 */
import type { StoredFile } from "./files_upload.ts";
import {
  type BatchJob,
  type FinalState,
  type RowResult,
  wireState,
} from "./batch_job.ts";
import { runRow } from "./batch_rows.ts";
import type { FakeState } from "./state.ts";

const INTERNAL = 13;
const RESULTS_MIME_TYPE = "application/jsonl";

/**
 * Moves a job to `final`, running the rows that finish in that state. Only
 * call it once per job (batches.ts keeps the promise in `job.finishing`).
 */
export async function finishJob(
  state: FakeState,
  job: BatchJob,
  final: FinalState,
): Promise<void> {
  if (final === "FAILED") {
    job.error = { code: INTERNAL, message: "Batch job failed." };
  } else {
    // EXPIRED and CANCELLED stop partway: the first half of the rows finished.
    const finished = final === "SUCCEEDED"
      ? job.rows
      : job.rows.slice(0, Math.floor(job.rows.length / 2));
    const results: RowResult[] = [];
    for (const row of finished) results.push(await runRow(state, job, row));
    job.results = results;
    if (job.input.kind === "file" && results.length > 0) {
      job.responsesFile = await writeResultsFile(state, job, results);
    }
  }
  const now = new Date().toISOString();
  job.state = wireState(final);
  job.updateTime = now;
  job.endTime = now;
}

async function writeResultsFile(
  state: FakeState,
  job: BatchJob,
  results: RowResult[],
): Promise<string> {
  const lines = results.map((result, i) => {
    const key = job.rows[i]?.key;
    // A line Google could not read has no key; its place in the file tells.
    return JSON.stringify(key === undefined ? result : { key, ...result });
  });
  const bytes = new TextEncoder().encode(lines.map((l) => `${l}\n`).join(""));
  const name = `files/batch-${job.id}`;
  const file: StoredFile = {
    name,
    displayName: "",
    mimeType: RESULTS_MIME_TYPE,
    bytes,
    sha256: new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)),
    uri: `${job.origin}/${job.version}/${name}`,
    createTime: new Date().toISOString(),
    processingGets: 0,
  };
  state.files.set(name, file);
  return name;
}
