/**
 * The pieces of one attempt that do not need the pool's state: the request
 * with its timeout, and turning a received image into a saved file.
 */
import {
  decodeImage,
  type Failure,
  type FileImage,
  type ImageRequest,
  type InlineImage,
  type Outcome,
  type RequestImage,
  RequestTimeoutError,
} from "../gemini/generate.ts";
import type { JobItem } from "../core/protocol.ts";
import {
  type SavedImage,
  UnsupportedImageTypeError,
} from "../lib/save_image.ts";
import { scrub, scrubError } from "../core/scrub.ts";

/** Waits `ms`, or less when `signal` aborts; never rejects. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/**
 * Writes one image of an item: bytes in memory, or a temp file (streamed
 * answers) that the save renames into place.
 */
export type SaveFn = (
  item: JobItem,
  image: { bytes: Uint8Array; mimeType: string } | {
    path: string;
    mimeType: string;
  },
) => Promise<SavedImage>;

const MAX_TIMER_MS = 2 ** 31 - 1;

/** The real `Sleep`, on `setTimeout`; the timer is cleared on abort. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(id);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const id = setTimeout(done, Math.min(MAX_TIMER_MS, Math.max(0, ms)));
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Runs `request` with a timeout of `timeoutMs` (timed with `wait`), cut short
 * when `stop` aborts. Resolves with an outcome and never throws.
 */
export async function timedRequest(
  request: RequestImage,
  input: ImageRequest,
  options: {
    stop: AbortSignal;
    timeoutMs: number;
    wait: Sleep;
    secrets: readonly string[];
  },
): Promise<Outcome> {
  const timeout = new AbortController();
  const signal = AbortSignal.any([options.stop, timeout.signal]);
  const timer = new AbortController();
  options.wait(options.timeoutMs, timer.signal).then(() => {
    if (!timer.signal.aborted) {
      timeout.abort(new RequestTimeoutError(options.timeoutMs));
    }
  });
  // Racing the abort keeps the pool on time even if a request function
  // does not honour its signal.
  let onAbort = () => {};
  const aborted = new Promise<Outcome>((resolve) => {
    onAbort = () => resolve({ ok: false, failure: abortFailure(signal) });
    signal.addEventListener("abort", onAbort, { once: true });
    if (signal.aborted) onAbort();
  });
  try {
    let settled = false;
    const answered = request(input, signal).then((outcome) => {
      // An image that arrived after the race was lost is nobody's: its
      // temp file goes.
      if (settled && outcome.ok && "path" in outcome.image) {
        Deno.remove(outcome.image.path).catch(() => {});
      }
      return outcome;
    }).catch((error): Outcome => ({
      ok: false,
      failure: signal.aborted ? abortFailure(signal) : {
        kind: "network",
        message: scrubError(error, options.secrets),
      },
    }));
    const outcome = await Promise.race([answered, aborted]);
    settled = true;
    return outcome;
  } finally {
    timer.abort();
    signal.removeEventListener("abort", onAbort);
  }
}

/**
 * Decodes and saves a received image. Broken base64 is "malformed" (worth a
 * retry); a failed write is "storage" (not retried: the disk will not heal).
 */
export async function storeImage(
  save: SaveFn,
  item: JobItem,
  image: InlineImage | FileImage,
  secrets: readonly string[],
): Promise<{ ok: true; saved: SavedImage } | { ok: false; failure: Failure }> {
  if ("path" in image) {
    try {
      return {
        ok: true,
        saved: await save(item, { path: image.path, mimeType: image.mimeType }),
      };
    } catch (error) {
      return { ok: false, failure: storageFailure(error, secrets) };
    } finally {
      // Renamed into place on success; a leftover is garbage either way.
      await Deno.remove(image.path).catch(() => {});
    }
  }
  let bytes: Uint8Array;
  try {
    bytes = decodeImage(image);
  } catch (error) {
    return {
      ok: false,
      failure: {
        kind: "malformed",
        message: `Google sent image data that cannot be decoded: ${
          scrubError(error, secrets)
        }`,
      },
    };
  }
  try {
    return {
      ok: true,
      saved: await save(item, { bytes, mimeType: image.mimeType }),
    };
  } catch (error) {
    return { ok: false, failure: storageFailure(error, secrets) };
  }
}

function storageFailure(error: unknown, secrets: readonly string[]): Failure {
  return {
    kind: "storage",
    // An unstorable type is already a whole sentence for the user.
    message: error instanceof UnsupportedImageTypeError
      ? scrub(error.message, secrets)
      : `Cannot save the image: ${scrubError(error, secrets)}`,
  };
}

function abortFailure(signal: AbortSignal): Failure {
  return signal.reason instanceof RequestTimeoutError
    ? { kind: "timeout", message: signal.reason.message }
    : { kind: "network", message: "The request was cancelled" };
}
