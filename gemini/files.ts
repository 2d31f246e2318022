/**
 * Reference images that many requests of a run share go up once through
 * Google's Files API (resumable upload, gemini-api.md §2.1), are named by
 * `fileData` parts (parts.ts), and are deleted when the run ends.
 *
 * Plain fetch through `fetchForGoogle`, not the SDK: the SDK's uploader
 * sends the key to whatever path the start answer names. Here the key goes
 * only in the `x-goog-api-key` header, and only to the base URL's origin:
 * an upload address anywhere else is refused before anything is sent to it.
 */
import { fetchForGoogle } from "./fetch.ts";
import { classifyError, type Failure } from "./errors.ts";
import {
  baseOf,
  clean,
  FILE_NAME,
  fileNameOf,
  FILES_API_VERSION,
  httpFailure,
  MIME_TYPE,
  readFile,
  readJson,
  Refusal,
  sameOrigin,
  type UploadedFile,
} from "./files_wire.ts";

export { FILES_API_VERSION, type UploadedFile } from "./files_wire.ts";

/** The file, or why it could not be uploaded (message already scrubbed). */
export type UploadResult =
  | { ok: true; file: UploadedFile }
  | { ok: false; failure: Failure };

/** What `uploadFile` sends. */
export interface UploadOptions {
  apiKey: string;
  /** Default: Google's API host. */
  baseUrl?: string;
  bytes: Uint8Array<ArrayBuffer>;
  mimeType: string;
  displayName: string;
  signal?: AbortSignal;
  /** Wait between checks while Google still processes the file, ms. Default 1000. */
  pollIntervalMs?: number;
}

const MAX_DISPLAY_NAME = 512;
/** Images are usually ACTIVE at once; a few checks cover a slow moment. */
const MAX_POLLS = 5;
/** Cleanup of a half-made file must not hang on a dead connection. */
const CLEANUP_TIMEOUT_MS = 10_000;

/** Uploads `bytes` once; resolves with the file or a failure, never throws. */
export async function uploadFile(
  options: UploadOptions,
): Promise<UploadResult> {
  const { apiKey, signal } = options;
  let uploaded: string | undefined;
  try {
    const base = baseOf(options.baseUrl);
    checkInput(options);
    const sent = { size: options.bytes.length, mimeType: options.mimeType };
    const uploadUrl = await startUpload(base, options);
    const final = await fetchForGoogle(uploadUrl, {
      method: "POST",
      headers: {
        "x-goog-api-key": apiKey,
        "x-goog-upload-command": "upload, finalize",
        "x-goog-upload-offset": "0",
      },
      body: options.bytes,
      signal,
    });
    if (!final.ok) throw new Refusal(await httpFailure(final, apiKey));
    const status = final.headers.get("x-goog-upload-status");
    if (status !== null && status !== "final") {
      await final.body?.cancel();
      throw new Refusal({
        kind: "malformed",
        message: "Google did not finish the upload of the reference image",
      });
    }
    const body = await readJson(final);
    // Known before the answer is checked, so a file we refuse is deleted.
    uploaded = fileNameOf(body);
    let answer = readFile(body, base, sent);
    for (let polls = 0; answer.state === "PROCESSING"; polls++) {
      if (polls === MAX_POLLS) {
        throw new Refusal({
          kind: "timeout",
          message: "Google was still processing the uploaded reference image",
        });
      }
      await sleep(options.pollIntervalMs ?? 1000, signal);
      const got = await fetchForGoogle(
        `${base}/${FILES_API_VERSION}/${uploaded}`,
        {
          headers: { "x-goog-api-key": apiKey },
          signal,
        },
      );
      if (!got.ok) throw new Refusal(await httpFailure(got, apiKey));
      answer = readFile(await readJson(got), base, sent);
      if (answer.file.name !== uploaded) {
        throw new Refusal({
          kind: "malformed",
          message: "Google answered about another file than the one uploaded",
        });
      }
    }
    if (answer.state !== "ACTIVE") {
      throw new Refusal({
        kind: answer.state === "FAILED" ? "invalid-request" : "malformed",
        message: clean(
          `Google did not accept the uploaded reference image (state ${answer.state})`,
          apiKey,
        ),
      });
    }
    return { ok: true, file: answer.file };
  } catch (error) {
    // A file Google holds but we cannot use would linger for 48 h.
    if (uploaded) {
      await deleteFile({
        apiKey,
        baseUrl: options.baseUrl,
        name: uploaded,
        signal: AbortSignal.timeout(CLEANUP_TIMEOUT_MS),
      });
    }
    const failure = error instanceof Refusal
      ? error.failure
      : classifyError(error, { apiKey, signal });
    return { ok: false, failure };
  }
}

/** Deletes an uploaded file; true when Google confirmed. Never throws. */
export async function deleteFile(options: {
  apiKey: string;
  baseUrl?: string;
  name: string;
  signal?: AbortSignal;
}): Promise<boolean> {
  if (!FILE_NAME.test(options.name)) return false;
  try {
    const base = baseOf(options.baseUrl);
    const response = await fetchForGoogle(
      `${base}/${FILES_API_VERSION}/${options.name}`,
      {
        method: "DELETE",
        headers: { "x-goog-api-key": options.apiKey },
        signal: options.signal,
      },
    );
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/** The upload address from Google's start answer, if it is Google's own. */
async function startUpload(
  base: string,
  options: UploadOptions,
): Promise<string> {
  const start = await fetchForGoogle(
    `${base}/upload/${FILES_API_VERSION}/files`,
    {
      method: "POST",
      headers: {
        "x-goog-api-key": options.apiKey,
        "x-goog-upload-protocol": "resumable",
        "x-goog-upload-command": "start",
        "x-goog-upload-header-content-length": String(options.bytes.length),
        "x-goog-upload-header-content-type": options.mimeType,
        "content-type": "application/json",
      },
      body: JSON.stringify({
        file: { displayName: displayNameOf(options.displayName) },
      }),
      signal: options.signal,
    },
  );
  if (!start.ok) throw new Refusal(await httpFailure(start, options.apiKey));
  await start.body?.cancel();
  const address = start.headers.get("x-goog-upload-url");
  if (!address || !sameOrigin(address, base)) {
    // The answer is untrusted: the image and the key would follow it.
    throw new Refusal({
      kind: "malformed",
      message: address
        ? "The upload address in Google's answer was not Google's; the image and the key were not sent there"
        : "Google's answer to the upload request had no upload address",
    });
  }
  return new URL(address).href;
}

function checkInput(options: UploadOptions): void {
  const problem = options.bytes.length === 0
    ? "The reference image is empty"
    : !MIME_TYPE.test(options.mimeType)
    ? "The reference image has no valid MIME type"
    : undefined;
  if (problem) throw new Refusal({ kind: "invalid-request", message: problem });
}

function displayNameOf(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, " ").slice(0, MAX_DISPLAY_NAME);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    function onAbort() {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
