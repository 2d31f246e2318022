/**
 * The wire side of the Files API client (files.ts): where requests go, and
 * how Google's answers are bounded, checked and turned into failures. Every
 * answer is untrusted: names are checked, addresses kept on the base URL's
 * origin, and every message scrubbed of the key.
 */
import { geminiBaseUrlProblem, GOOGLE_API_BASE_URL } from "../core/loopback.ts";
import { scrub } from "../core/scrub.ts";
import { limitBody, MAX_ERROR_BODY_BYTES } from "./fetch.ts";
import { classifyApiError, type Failure, parseGoogleError } from "./errors.ts";

/** Pinned like the SDK client: Google's Files docs and samples are v1beta. */
export const FILES_API_VERSION = "v1beta";

/** A file Google holds for this run, ready for a `fileData` part. */
export interface UploadedFile {
  /** "files/<id>". */
  name: string;
  uri: string;
  mimeType: string;
}

export const FILE_NAME = /^files\/[A-Za-z0-9_-]{1,128}$/;
export const MIME_TYPE = /^[\w.+-]{1,64}\/[\w.+-]{1,128}$/;
const MAX_MESSAGE = 600;

/** Ends a Files request early with a failure (caught by its caller). */
export class Refusal extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}

/** The file's valid name in a Files answer, if it has one. */
export function fileNameOf(body: unknown): string | undefined {
  const name = resourceOf(body)?.name;
  return typeof name === "string" && FILE_NAME.test(name) ? name : undefined;
}

/** The file resource (bare, or under `file` in the upload answer), validated. */
export function readFile(
  body: unknown,
  base: string,
  sent: { size: number; mimeType: string },
): { file: UploadedFile; state: string } {
  const raw = resourceOf(body);
  const name = fileNameOf(body);
  if (!name) {
    throw new Refusal({
      kind: "malformed",
      message: "Google's answer about the uploaded file had no valid file name",
    });
  }
  const size = raw?.sizeBytes;
  if (size !== undefined && String(size) !== String(sent.size)) {
    throw new Refusal({
      kind: "malformed",
      message: "Google stored a different number of bytes than were uploaded",
    });
  }
  const mimeType = typeof raw?.mimeType === "string" &&
      MIME_TYPE.test(raw.mimeType)
    ? raw.mimeType
    : sent.mimeType;
  return {
    file: { name, uri: fileUri(raw?.uri, name, base), mimeType },
    state: typeof raw?.state === "string" ? raw.state.slice(0, 40) : "missing",
  };
}

/**
 * Google's own uri, or one on the base URL's origin, naming this file; any
 * other is rebuilt. (The uri only goes into later request bodies; a proxy
 * base still gets Google's uri, which Google understands.)
 */
function fileUri(value: unknown, name: string, base: string): string {
  if (typeof value === "string") {
    for (const origin of [base, GOOGLE_API_BASE_URL]) {
      if (!sameOrigin(value, origin)) continue;
      const url = new URL(value);
      if (url.pathname.endsWith(`/${name}`) && !url.search && !url.hash) {
        return url.href;
      }
    }
  }
  return `${base}/${FILES_API_VERSION}/${name}`;
}

/** `baseUrl` (default Google's) without a trailing slash, or a Refusal. */
export function baseOf(baseUrl: string | undefined): string {
  const value = baseUrl ?? GOOGLE_API_BASE_URL;
  const problem = geminiBaseUrlProblem(value);
  if (problem) {
    throw new Refusal({
      kind: "invalid-request",
      message: `The Gemini base URL ${problem}`,
    });
  }
  const url = new URL(value);
  return url.origin + url.pathname.replace(/\/+$/, "");
}

/** True when `address` is a URL on the same origin as `base`. */
export function sameOrigin(address: string, base: string): boolean {
  try {
    return new URL(address).origin === new URL(base).origin;
  } catch {
    return false;
  }
}

/** The JSON of a successful answer, read only up to a small bound. */
export async function readJson(response: Response): Promise<unknown> {
  // A file resource is a few hundred bytes; more is not Google's.
  const text = await limitBody(response, MAX_ERROR_BODY_BYTES).text();
  return JSON.parse(text);
}

/** The failure for a non-2xx answer. */
export async function httpFailure(response: Response, apiKey: string) {
  // fetchForGoogle already cut error bodies at MAX_ERROR_BODY_BYTES.
  const text = await response.text();
  return classifyApiError(
    response.status,
    parseGoogleError(text),
    (message) => clean(message, apiKey),
  );
}

/** Scrubbed of the key, on one line, shortened. */
export function clean(text: string, apiKey: string): string {
  const oneLine = scrub(text, [apiKey]).replace(/\s+/g, " ").trim();
  return oneLine.length > MAX_MESSAGE
    ? oneLine.slice(0, MAX_MESSAGE - 1) + "…"
    : oneLine;
}

function resourceOf(body: unknown): Record<string, unknown> | undefined {
  const outer = record(body);
  return record(outer?.file) ?? outer;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Record<string, unknown>
    : undefined;
}
