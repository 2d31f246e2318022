/**
 * The one way BatchGen talks to Google: an `@google/genai` client pinned to
 * `v1beta`, with a timeout, and a fetch that never follows a redirect. The
 * key check (server) and the generator (child process) both build their
 * client here, so both send the key the same way (K8: only in the
 * `x-goog-api-key` header) and both refuse to carry it anywhere else.
 */
import { GoogleGenAI } from "@google/genai";
import { GOOGLE_API_BASE_URL } from "../core/loopback.ts";

export {
  fetchForGoogle,
  fetchNoRedirect,
  limitBody,
  MAX_BODY_BYTES,
  MAX_ERROR_BODY_BYTES,
  RedirectRefusedError,
} from "./fetch.ts";
import { fetchForGoogle } from "./fetch.ts";

/** Options of `createGeminiClient`. */
export interface GeminiClientOptions {
  apiKey: string;
  /** Default: Google's API host. */
  baseUrl?: string;
  /** Per-request timeout in ms; none when undefined (the caller times out). */
  timeoutMs?: number;
}

/** A client for one key; keep it only as long as the request that needs it. */
export function createGeminiClient(options: GeminiClientOptions): GoogleGenAI {
  return new GoogleGenAI({
    apiKey: options.apiKey,
    // SDK 3.x defaults to v1; Google's image docs and fields are v1beta.
    apiVersion: "v1beta",
    httpOptions: {
      baseUrl: options.baseUrl ?? GOOGLE_API_BASE_URL,
      ...(options.timeoutMs === undefined
        ? {}
        : { timeout: options.timeoutMs }),
      fetch: fetchForGoogle,
    },
  });
}
