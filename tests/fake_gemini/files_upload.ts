/**
 * The Files API's two-step resumable upload (gemini-api.md §2.1): `start`
 * answers an upload URL in `X-Goog-Upload-URL`, then the bytes go there in
 * one or more `upload` chunks, the last with `finalize`. Also the file
 * resource every Files answer shows. Wording of the errors Google was not
 * seen to give is the fake's own.
 */
import { googleError, isRecord, type Outcome } from "./http.ts";
import type { FakeState } from "./state.ts";

/** One uploaded file. */
export interface StoredFile {
  name: string;
  displayName: string;
  mimeType: string;
  bytes: Uint8Array<ArrayBuffer>;
  sha256: Uint8Array;
  uri: string;
  createTime: string;
  /** GETs that still answer PROCESSING (`fileProcessingGets`). */
  processingGets: number;
}

/** A started upload, waiting for its bytes. */
export interface UploadSession {
  id: string;
  version: string;
  origin: string;
  name?: string;
  displayName: string;
  mimeType: string;
  length: number;
  chunks: Uint8Array<ArrayBuffer>[];
  received: number;
}

/** An answer that may carry upload headers or raw bytes. */
export interface FilesAnswer {
  outcome: Outcome;
  headers?: Record<string, string>;
  /** Raw body (a download), sent with `contentType`. */
  bytes?: Uint8Array<ArrayBuffer>;
  contentType?: string;
}

// Google's rule for file ids: lowercase alphanumerics or dashes, up to 40.
const FILE_ID = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;
const EXPIRY_MS = 48 * 3600 * 1000;

/** Lowercase hex, how `InputImage.sha256` is spelt. */
export async function sha256Hex(
  bytes: Uint8Array<ArrayBuffer>,
): Promise<string> {
  return (await digest(bytes)).toHex();
}

async function digest(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

/** Google's error envelope with an explicit canonical status. */
export function rpcError(
  code: number,
  status: string,
  message: string,
): Outcome {
  return { status: code, body: { error: { code, message, status } } };
}

/** `POST /upload/{v}/files` with `X-Goog-Upload-Command: start`. */
export function startUpload(
  state: FakeState,
  version: string,
  request: { url: URL; headers: Headers; json: unknown },
): FilesAnswer {
  const header = (name: string) => request.headers.get(name)?.trim() ?? "";
  const meta = isRecord(request.json) && isRecord(request.json.file)
    ? request.json.file
    : {};
  const lengthText = header("x-goog-upload-header-content-length");
  const mimeType = header("x-goog-upload-header-content-type") ||
    (typeof meta.mimeType === "string" ? meta.mimeType : "");
  const bad = (message: string) => ({ outcome: googleError(400, message) });
  if (header("x-goog-upload-protocol").toLowerCase() !== "resumable") {
    return bad("X-Goog-Upload-Protocol must be 'resumable' for this endpoint.");
  }
  if (header("x-goog-upload-command").toLowerCase() !== "start") {
    return bad("X-Goog-Upload-Command must be 'start' to begin an upload.");
  }
  if (!/^\d{1,15}$/.test(lengthText)) {
    return bad("X-Goog-Upload-Header-Content-Length is missing or invalid.");
  }
  if (!/^[\w.+-]+\/[\w.+-]+$/.test(mimeType)) {
    return bad("The file's MIME type is missing or invalid.");
  }
  const wanted = typeof meta.name === "string" ? meta.name : undefined;
  const id = wanted?.replace(/^files\//, "");
  if (id !== undefined && !FILE_ID.test(id)) {
    return bad(`* CreateFileRequest.file.name: invalid name "${wanted}"\n`);
  }
  if (id !== undefined && state.files.has(`files/${id}`)) {
    return {
      outcome: rpcError(409, "ALREADY_EXISTS", `File files/${id} exists.`),
    };
  }
  const displayName = meta.displayName ?? meta.display_name;
  const session: UploadSession = {
    id: randomId(32, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"),
    version,
    origin: request.url.origin,
    name: id && `files/${id}`,
    displayName: typeof displayName === "string" ? displayName : "",
    mimeType,
    length: Number(lengthText),
    chunks: [],
    received: 0,
  };
  state.uploads.set(session.id, session);
  const url =
    `${session.origin}/upload/${version}/files?upload_id=${session.id}&upload_protocol=resumable`;
  return {
    // Google's start answer has an empty body; everything is in headers.
    outcome: { status: 200, body: null },
    headers: {
      "X-Goog-Upload-URL": url,
      "X-Goog-Upload-Control-URL": url,
      "X-Goog-Upload-Status": "active",
      "X-Goog-Upload-Chunk-Granularity": String(8 * 1024 * 1024),
    },
  };
}

/** `POST` (or PUT) to the upload URL: a chunk, the last one finalizing the file. */
export async function receiveBytes(
  state: FakeState,
  request: { url: URL; headers: Headers; bytes: Uint8Array<ArrayBuffer> },
): Promise<FilesAnswer> {
  const id = request.url.searchParams.get("upload_id") ?? "";
  const session = state.uploads.get(id);
  if (!session) {
    return { outcome: rpcError(404, "NOT_FOUND", "No such upload session.") };
  }
  const commands = (request.headers.get("x-goog-upload-command") ?? "")
    .split(",").map((c) => c.trim().toLowerCase());
  const offset = request.headers.get("x-goog-upload-offset");
  const bad = (message: string) => ({ outcome: googleError(400, message) });
  if (!commands.includes("upload") && !commands.includes("finalize")) {
    return bad("X-Goog-Upload-Command must be 'upload' and/or 'finalize'.");
  }
  if (
    commands.includes("upload") &&
    (offset === null || Number(offset) !== session.received)
  ) {
    return bad(
      `X-Goog-Upload-Offset ${offset} does not match the ${session.received} bytes received.`,
    );
  }
  session.chunks.push(request.bytes);
  session.received += request.bytes.length;
  if (!commands.includes("finalize")) {
    return {
      outcome: { status: 200, body: null },
      headers: {
        "X-Goog-Upload-Status": "active",
        "X-Goog-Upload-Size-Received": String(session.received),
      },
    };
  }
  state.uploads.delete(session.id);
  if (session.received !== session.length) {
    return bad(
      `Received ${session.received} bytes but X-Goog-Upload-Header-Content-Length announced ${session.length}.`,
    );
  }
  const bytes = new Uint8Array(session.received);
  let at = 0;
  for (const chunk of session.chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  const name = session.name ??
    `files/${randomId(12, "abcdefghijklmnopqrstuvwxyz0123456789")}`;
  const file: StoredFile = {
    name,
    displayName: session.displayName,
    mimeType: session.mimeType,
    bytes,
    sha256: await digest(bytes),
    uri: `${session.origin}/${session.version}/${name}`,
    createTime: new Date().toISOString(),
    processingGets: state.options.fileProcessingGets ?? 0,
  };
  state.files.set(name, file);
  state.filesUploaded++;
  return {
    outcome: { status: 200, body: { file: fileResource(file) } },
    headers: { "X-Goog-Upload-Status": "final" },
  };
}

/** The File resource as Google shows it. */
export function fileResource(file: StoredFile): Record<string, unknown> {
  const body: Record<string, unknown> = { name: file.name };
  if (file.displayName) body.displayName = file.displayName;
  return {
    ...body,
    mimeType: file.mimeType,
    sizeBytes: String(file.bytes.length),
    createTime: file.createTime,
    updateTime: file.createTime,
    expirationTime: new Date(Date.parse(file.createTime) + EXPIRY_MS)
      .toISOString(),
    sha256Hash: file.sha256.toBase64(),
    uri: file.uri,
    state: file.processingGets > 0 ? "PROCESSING" : "ACTIVE",
    source: "UPLOADED",
  };
}

function randomId(length: number, alphabet: string): string {
  const raw = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(raw, (b) => alphabet[b % alphabet.length]).join("");
}
