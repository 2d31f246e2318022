/**
 * What the Batch API changes on Files routes: Google's 40-character limit
 * on file ids in GET and DELETE (which its own `files/batch-<id>` results
 * files exceed, so only `:download` reaches them), and the scripted fault
 * on a results file's first download (`batch.downloadFailOnce`).
 */
import type { FilesRoute } from "./files.ts";
import { type FilesAnswer, filesResponse } from "./files.ts";
import { googleError } from "./http.ts";
import type { FakeState } from "./state.ts";

/** A Files answer that may be cut off midway. */
export interface Answer extends FilesAnswer {
  /** Announce all of `bytes` but send only the first half. */
  cut?: boolean;
}

const MAX_FILE_ID = 40;

/** The answer to a Files request the Batch API decides, else undefined. */
export function batchFilesAnswer(
  state: FakeState,
  route: FilesRoute,
  url: URL,
): Answer | undefined {
  if (
    (route.kind === "get" || route.kind === "delete") &&
    route.id.length > MAX_FILE_ID
  ) {
    const method = route.kind === "get"
      ? "GetFileRequest"
      : "DeleteFileRequest";
    return {
      outcome: googleError(
        400,
        `* ${method}.name: File ID (name excluding 'files/') cannot be more than ${MAX_FILE_ID} characters.\n`,
      ),
    };
  }
  const fault = state.options.batch?.downloadFailOnce;
  if (route.kind !== "download" || !fault) return undefined;
  if (url.searchParams.get("alt") !== "media") return undefined;
  const name = `files/${route.id}`;
  const file = state.files.get(name);
  const job = [...state.batches.values()].find((j) => j.responsesFile === name);
  if (!file || !job || job.downloadFaulted) return undefined;
  job.downloadFaulted = true;
  if (fault === "503") {
    return {
      outcome: googleError(503, "The service is currently unavailable."),
    };
  }
  return {
    outcome: { status: 200, body: null },
    bytes: file.bytes,
    contentType: file.mimeType,
    cut: true,
  };
}

/** The HTTP answer, cut off after half the body when asked to. */
export function answerResponse(answer: Answer): Response {
  if (!answer.cut || !answer.bytes) return filesResponse(answer);
  const { bytes } = answer;
  const half = bytes.slice(0, Math.floor(bytes.length / 2));
  // Closing short of the announced Content-Length makes the server drop the
  // connection, so the client reads half the body and then gets an error.
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(half);
      controller.close();
    },
  });
  return new Response(body, {
    status: answer.outcome.status,
    headers: {
      "content-type": answer.contentType ?? "application/octet-stream",
      "content-length": String(bytes.length),
    },
  });
}
