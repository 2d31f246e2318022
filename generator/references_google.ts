/** The run's reference parts wired to Google's Files API with the run's key. */
import type { Job } from "../core/protocol.ts";
import { deleteFile, uploadFile } from "../gemini/files.ts";
import { createReferenceParts } from "./references.ts";

/** Reference parts that upload to (and delete from) Google's Files API. */
export function googleReferenceParts(
  job: Job,
  apiKey: string,
  baseUrl: string | undefined,
) {
  return createReferenceParts(job, {
    upload: (reference, bytes, signal) =>
      uploadFile({
        apiKey,
        baseUrl,
        bytes,
        mimeType: reference.mimeType,
        displayName: `batchgen-${reference.sha256.slice(0, 16)}`,
        signal,
      }),
    // Deleting is tidying up: a file left behind expires at Google in 48 h.
    remove: (name) =>
      deleteFile({
        apiKey,
        baseUrl,
        name,
        signal: AbortSignal.timeout(10_000),
      }),
    secrets: [apiKey],
  });
}
