/**
 * `fetch` for Google without the SDK: never follows a redirect (the key
 * would travel to wherever `Location` says) and reads bounded bodies. The
 * generator's image path uses it directly, so a generator child never loads
 * `@google/genai` (client.ts builds the SDK client on top of it).
 */

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
 * The most BatchGen reads of an error body: Google's are a few KB, and every
 * byte read is scrubbed, so an upstream cannot make one request cost the
 * server seconds and gigabytes.
 */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** The most it reads of a successful answer: a 4K image in base64, with room. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * `fetch` for Google: it hands a 3xx back instead of following it (fetch
 * would send the request again, `x-goog-api-key` included, to wherever
 * `Location` says), and it reads at most a bounded part of any body, so an
 * endless or huge answer ends where the bound does.
 */
export const fetchForGoogle: typeof fetch = (input, init) =>
  fetchNoRedirect(input, init, MAX_BODY_BYTES);

/**
 * The same rules with the bound on a successful body left to the caller
 * (`okBytes: undefined`): an inline Batch answer or a results file can be
 * far larger than one image, and cutting it silently would look like a
 * complete answer. Such a caller bounds what it reads itself.
 */
export async function fetchNoRedirect(
  input: Parameters<typeof fetch>[0],
  init: RequestInit | undefined,
  okBytes: number | undefined,
): Promise<Response> {
  const response = await fetch(input, { ...init, redirect: "manual" });
  if (
    response.type === "opaqueredirect" ||
    (response.status >= 300 && response.status < 400)
  ) {
    await response.body?.cancel();
    throw new RedirectRefusedError(response.status);
  }
  if (!response.ok) return limitBody(response, MAX_ERROR_BODY_BYTES);
  return okBytes === undefined ? response : limitBody(response, okBytes);
}

/** `response` with its body cut after `maxBytes` (the rest is never read). */
export function limitBody(response: Response, maxBytes: number): Response {
  if (!response.body) return response;
  let seen = 0;
  const limited = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        const room = maxBytes - seen;
        seen += chunk.length;
        controller.enqueue(
          chunk.length > room ? chunk.subarray(0, room) : chunk,
        );
        if (seen >= maxBytes) controller.terminate();
      },
    }),
  );
  return new Response(limited, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
