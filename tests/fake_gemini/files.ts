/**
 * Files API routes (gemini-api.md §2.1): the resumable upload
 * (files_upload.ts), get, list, delete and `:download?alt=media`, plus the
 * check generateContent makes on reference parts (a `fileData` part must
 * name a live file, `inlineData` must be base64).
 */
import type { InputImage } from "../fake_gemini.ts";
import { googleError, isRecord, type Outcome, toResponse } from "./http.ts";
import {
  fileResource,
  type FilesAnswer,
  receiveBytes,
  rpcError,
  sha256Hex,
  startUpload,
} from "./files_upload.ts";
import type { FakeState } from "./state.ts";

export { type FilesAnswer, sha256Hex } from "./files_upload.ts";

/** A Files API request; "start" and "data" share a path, told apart by `upload_id`. */
export type FilesRoute =
  | { kind: "start"; version: string }
  | { kind: "data"; version: string }
  | { kind: "list"; version: string }
  | { kind: "get" | "delete" | "download"; version: string; id: string };
const UPLOAD_PATH = /^\/upload\/(v1|v1beta)\/files$/;
const FILES_PATH = /^\/(v1|v1beta)\/files(?:\/([^/:]+)(:download)?)?$/;
const PAGE = { default: 10, max: 100 };

/** Maps a request to a Files route; undefined when it is not one. */
export function matchFilesRoute(
  method: string,
  url: URL,
): FilesRoute | undefined {
  const upload = UPLOAD_PATH.exec(url.pathname);
  if (upload && (method === "POST" || method === "PUT")) {
    const kind = url.searchParams.has("upload_id") ? "data" : "start";
    return { kind, version: upload[1]! };
  }
  const match = FILES_PATH.exec(url.pathname);
  if (!match) return undefined;
  const [, version = "", id, download] = match;
  if (!id) return method === "GET" ? { kind: "list", version } : undefined;
  if (download) {
    return method === "GET" ? { kind: "download", version, id } : undefined;
  }
  if (method === "GET") return { kind: "get", version, id };
  return method === "DELETE" ? { kind: "delete", version, id } : undefined;
}

function noSuchFile(id: string): Outcome {
  // Google's answer for an unknown id: it does not tell missing from foreign.
  return rpcError(
    403,
    "PERMISSION_DENIED",
    `You do not have permission to access the File ${id} or it may not exist.`,
  );
}

/** Answers a Files API request (the key is already checked). */
export async function answerFiles(
  state: FakeState,
  route: FilesRoute,
  request: {
    url: URL;
    headers: Headers;
    json: unknown;
    bytes: Uint8Array<ArrayBuffer>;
  },
): Promise<FilesAnswer> {
  if (route.kind === "start") return startUpload(state, route.version, request);
  if (route.kind === "data") return await receiveBytes(state, request);
  if (route.kind === "list") return { outcome: listFiles(state, request.url) };
  const file = state.files.get(`files/${route.id}`);
  if (!file) return { outcome: noSuchFile(route.id) };
  if (route.kind === "delete") {
    state.files.delete(file.name);
    state.filesDeleted++;
    return { outcome: { status: 200, body: {} } };
  }
  if (route.kind === "download") {
    if (request.url.searchParams.get("alt") !== "media") {
      return { outcome: googleError(400, "Download needs alt=media.") };
    }
    return {
      outcome: { status: 200, body: null },
      bytes: file.bytes,
      contentType: file.mimeType,
    };
  }
  const body = fileResource(file);
  if (file.processingGets > 0) file.processingGets--;
  return { outcome: { status: 200, body } };
}

function listFiles(state: FakeState, url: URL): Outcome {
  const size = Number(url.searchParams.get("pageSize") ?? PAGE.default);
  if (!Number.isInteger(size) || size < 0) {
    return googleError(400, "Invalid value at 'page_size' (TYPE_INT32)");
  }
  const token = url.searchParams.get("pageToken");
  const offset = token ? Number(/^files-offset-(\d+)$/.exec(token)?.[1]) : 0;
  const files = [...state.files.values()];
  if (!Number.isInteger(offset) || offset > files.length) {
    return googleError(400, "Invalid page token.");
  }
  const next = offset + Math.min(size || PAGE.default, PAGE.max);
  // Google leaves out empty lists and the last page's token.
  const body: Record<string, unknown> = {};
  const page = files.slice(offset, next);
  if (page.length > 0) body.files = page.map(fileResource);
  if (next < files.length) body.nextPageToken = `files-offset-${next}`;
  return { status: 200, body };
}

/**
 * Reads the reference parts of a generateContent body: every image it
 * names, or the answer Google gives to a dead file or broken base64.
 */
export async function readReferences(
  state: FakeState,
  body: unknown,
): Promise<{ images: InputImage[]; problem?: Outcome }> {
  const images: InputImage[] = [];
  const contents = isRecord(body) && Array.isArray(body.contents)
    ? body.contents
    : [];
  for (const [i, content] of contents.entries()) {
    const parts = isRecord(content) && Array.isArray(content.parts)
      ? content.parts
      : [];
    for (const [j, part] of parts.entries()) {
      if (!isRecord(part)) continue;
      const inline = isRecord(part.inlineData) ? part.inlineData : undefined;
      const data = isRecord(part.fileData) ? part.fileData : undefined;
      if (inline) {
        const bytes = decodeBase64(inline.data);
        if (!bytes) {
          const at = `contents[${i}].parts[${j}].inline_data.data`;
          const problem = googleError(
            400,
            `Invalid value at '${at}' (TYPE_BYTES), Base64 decoding failed for "${
              String(inline.data).slice(0, 40)
            }"`,
          );
          return { images, problem };
        }
        images.push({
          kind: "inline",
          sha256: await sha256Hex(bytes),
          mimeType: String(inline.mimeType ?? ""),
        });
      } else if (data) {
        const uri = String(data.fileUri ?? "");
        const id = /(?:^|\/)files\/([^/?#]+)$/.exec(uri)?.[1] ?? uri;
        const file = state.files.get(`files/${id}`);
        if (!file) return { images, problem: noSuchFile(id) };
        if (file.processingGets > 0) {
          const problem = rpcError(
            400,
            "FAILED_PRECONDITION",
            `The File ${id} is not in an ACTIVE state and usage is not allowed.`,
          );
          return { images, problem };
        }
        images.push({
          kind: "file",
          sha256: file.sha256.toHex(),
          mimeType: String(data.mimeType ?? file.mimeType),
          fileName: file.name,
        });
      }
    }
  }
  return { images };
}

function decodeBase64(value: unknown): Uint8Array<ArrayBuffer> | undefined {
  if (typeof value !== "string") return undefined;
  // Proto3 JSON accepts both alphabets, with or without padding.
  const alphabet = /[-_]/.test(value) ? "base64url" : "base64";
  try {
    return Uint8Array.fromBase64(value, { alphabet });
  } catch {
    return undefined;
  }
}

/** The HTTP answer: JSON (or empty) with upload headers, or raw bytes. */
export function filesResponse(answer: FilesAnswer): Response {
  const { outcome } = answer;
  const response = answer.bytes
    ? new Response(answer.bytes, {
      status: outcome.status,
      headers: {
        "content-type": answer.contentType ?? "application/octet-stream",
      },
    })
    : outcome.body === null
    ? new Response(null, { status: outcome.status })
    : toResponse(outcome);
  for (const [name, value] of Object.entries(answer.headers ?? {})) {
    response.headers.set(name, value);
  }
  return response;
}
