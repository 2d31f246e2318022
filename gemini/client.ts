/**
 * The one way BatchGen talks to Google: an `@google/genai` client pinned to
 * `v1beta`, with a timeout, and a fetch that never follows a redirect. The
 * key check (server) and the generator (child process) both build their
 * client here, so both send the key the same way (K8: only in the
 * `x-goog-api-key` header) and both refuse to carry it anywhere else.
 */
import { GoogleGenAI } from "@google/genai";
import { GOOGLE_API_BASE_URL } from "../core/loopback.ts";

/** Google (or something in its place) answered a request with a redirect. */
export class RedirectRefusedError extends Error {
  override name = "RedirectRefusedError";
  constructor(readonly status: number) {
    super(
      `The Gemini API answered with a redirect (HTTP ${status}); BatchGen never follows a redirect with your key`,
    );
  }
}

/**
 * `fetch` that hands a 3xx back instead of following it: fetch would send
 * the request again, `x-goog-api-key` included, to wherever `Location` says.
 */
export const fetchWithoutRedirects: typeof fetch = async (input, init) => {
  const response = await fetch(input, { ...init, redirect: "manual" });
  if (
    response.type === "opaqueredirect" ||
    (response.status >= 300 && response.status < 400)
  ) {
    await response.body?.cancel();
    throw new RedirectRefusedError(response.status);
  }
  return response;
};

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
      fetch: fetchWithoutRedirects,
    },
  });
}
