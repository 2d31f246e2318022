/**
 * One request to Gemini → one image (or one classified failure), with plain
 * `fetch` (no SDK in the generator: issue 13 §2) and the SDK's wire format.
 * The answer is streamed (answer_scanner.ts): each inline image is decoded
 * into its own temp file as it arrives and only the winner is kept; the
 * rest of the answer is parsed here rather than through the SDK's
 * `response.data`, which concatenates every inline part, thought drafts
 * included (gemini-api.md §2.3).
 */
import type { Usage } from "../core/cost.ts";
import { LIMITS } from "../core/limits.ts";
import { scrub } from "../core/scrub.ts";
import { GOOGLE_API_BASE_URL } from "../core/loopback.ts";
import {
  classifyApiError,
  classifyError,
  type Failure,
  parseGoogleError,
} from "./errors.ts";
import { fetchForGoogle } from "./fetch.ts";
import { type ReferencePart, requestContents } from "./parts.ts";
import { type Base64Sink, createAnswerScanner } from "./answer_scanner.ts";
import { type Base64Decoder, createBase64Decoder } from "./base64_file.ts";

export { type Failure, RequestTimeoutError } from "./errors.ts";

/** What one image request asks for. */
export interface ImageRequest {
  model: string;
  prompt: string;
  aspectRatio: string;
  /** Omitted from the request when undefined (some models reject it). */
  imageSize?: string;
  /** Reference images, sent as image parts before the text. */
  references?: readonly ReferencePart[];
}

/** The image part picked from a response, still base64 as Google sent it. */
export interface InlineImage {
  mimeType: string;
  data: string;
}

/** An image decoded into a temp file; whoever takes it renames or removes it. */
export interface FileImage {
  mimeType: string;
  /** The temp file holding the decoded bytes. */
  path: string;
  bytes: number;
}

/** A parsed answer: its image still base64, or a failure; usage when known. */
export type ParsedOutcome =
  | { ok: true; image: InlineImage; usage?: Usage }
  | { ok: false; failure: Failure; usage?: Usage };

/** The result of one request: an image, or a failure; usage when known. */
export type Outcome =
  | ParsedOutcome
  | { ok: true; image: FileImage; usage?: Usage };

/** Performs one image request; resolves with an outcome and never throws. */
export type RequestImage = (
  request: ImageRequest,
  signal: AbortSignal,
) => Promise<Outcome>;

// finishReason / blockReason values that mean a policy refusal, not a glitch.
const BLOCK_REASONS = new Set([
  "SAFETY",
  "PROHIBITED_CONTENT",
  "BLOCKLIST",
  "SPII",
  "RECITATION",
  "IMAGE_SAFETY",
  "IMAGE_PROHIBITED_CONTENT",
  "IMAGE_RECITATION",
  "MODEL_ARMOR",
  "JAILBREAK",
]);

const MAX_TEXT = 400;

/**
 * Returns the request function of a process. Without `tempFile` the answer
 * is read whole (tests, small images); with it every inline image is
 * decoded into a file `tempFile()` names, and a success holds a `FileImage`.
 */
export function createGeminiRequester(
  options: { apiKey: string; baseUrl?: string; tempFile?: () => string },
): RequestImage {
  const { apiKey, tempFile } = options;
  const base = (options.baseUrl ?? GOOGLE_API_BASE_URL).replace(/\/+$/, "");
  const clean = (text: string) => shorten(scrub(text, [apiKey]), 600);
  // The pool times each request itself (generator/attempt.ts).
  return async function requestImage(request, signal) {
    try {
      const response = await fetchForGoogle(
        `${base}/v1beta/models/${
          encodeURIComponent(request.model)
        }:generateContent`,
        {
          method: "POST",
          // K8: the key only in this header.
          headers: {
            "content-type": "application/json",
            "x-goog-api-key": apiKey,
          },
          body: JSON.stringify(requestBody(request)),
          signal,
        },
      );
      if (!response.ok) {
        // fetchForGoogle cut the body at MAX_ERROR_BODY_BYTES.
        const text = await response.text();
        return {
          ok: false,
          failure: classifyApiError(
            response.status,
            parseGoogleError(text),
            clean,
          ),
        };
      }
      if (!tempFile) {
        return parseGenerateResponse(await response.json(), apiKey);
      }
      return await streamAnswer(response, apiKey, tempFile);
    } catch (error) {
      return { ok: false, failure: classifyError(error, { apiKey, signal }) };
    }
  };
}

/** The JSON body of an image request, as the SDK sends it. */
export function requestBody(request: ImageRequest) {
  return {
    contents: requestContents(request.prompt, request.references ?? []),
    generationConfig: {
      responseModalities: ["TEXT", "IMAGE"],
      // One image per request: Google rejects candidateCount > 1.
      candidateCount: 1,
      imageConfig: request.imageSize === undefined
        ? { aspectRatio: request.aspectRatio }
        : { aspectRatio: request.aspectRatio, imageSize: request.imageSize },
    },
  };
}

interface ImageFile extends Base64Sink {
  decoder: Base64Decoder;
  path: string;
  file?: Deno.FsFile;
}

/**
 * Reads a 2xx answer as it arrives: images go to temp files (decoded in
 * chunks), the rest is kept small, and the outcome is the one
 * `parseGenerateResponse` gives. Only the winning image's file survives;
 * every other one (and all of them on any failure) is removed.
 */
export async function streamAnswer(
  response: Response,
  apiKey: string,
  tempFile: () => string,
): Promise<Outcome> {
  const images: ImageFile[] = [];
  let keep: ImageFile | undefined;
  const scanner = createAnswerScanner(() => {
    const decoder = createBase64Decoder();
    const image: ImageFile = {
      id: `\u0000image-${images.length}`,
      decoder,
      path: tempFile(),
      push: (text) => decoder.push(text),
      end: () => decoder.end(),
    };
    images.push(image);
    return image;
  });
  try {
    if (response.body) {
      for await (const chunk of response.body) {
        scanner.feed(chunk);
        await drain(images);
      }
    }
    const outcome = parseGenerateResponse(scanner.finish(), apiKey);
    await drain(images);
    if (!outcome.ok) return outcome;
    const picked = images.find((i) => i.id === outcome.image.data);
    if (!picked) throw new SyntaxError("Google's image was not read");
    if (picked.decoder.error) {
      const failure: Failure = {
        kind: "malformed",
        message: `Google sent image data that cannot be decoded: ${
          shorten(scrub(picked.decoder.error.message, [apiKey]), 600)
        }`,
      };
      return outcome.usage
        ? { ok: false, failure, usage: outcome.usage }
        : { ok: false, failure };
    }
    keep = picked;
    const image: FileImage = {
      mimeType: outcome.image.mimeType,
      path: picked.path,
      bytes: picked.decoder.bytes,
    };
    return outcome.usage
      ? { ok: true, image, usage: outcome.usage }
      : { ok: true, image };
  } finally {
    for (const image of images) {
      image.file?.close();
      image.file = undefined;
      if (image !== keep) await Deno.remove(image.path).catch(() => {});
    }
    await response.body?.cancel().catch(() => {});
  }
}

// Writes each image's decoded bytes to its file (opened on first bytes).
async function drain(images: readonly ImageFile[]) {
  for (const image of images) {
    const { queue } = image.decoder;
    if (queue.length === 0) continue;
    image.file ??= await Deno.open(image.path, {
      createNew: true,
      write: true,
      mode: 0o644,
    });
    while (queue.length > 0) {
      const bytes = queue.shift()!;
      let written = 0;
      while (written < bytes.length) {
        written += await image.file.write(bytes.subarray(written));
      }
    }
  }
}

/** Reads Google's token counts; undefined when the response has none. */
export function extractUsage(body: unknown): Usage | undefined {
  const meta = field(body, "usageMetadata");
  if (!meta || typeof meta !== "object") return undefined;
  const details = field(meta, "candidatesTokensDetails");
  let imageTokens = 0;
  if (Array.isArray(details)) {
    for (const d of details) {
      if (field(d, "modality") === "IMAGE") {
        imageTokens += count(d, "tokenCount");
      }
    }
  }
  return {
    promptTokens: count(meta, "promptTokenCount"),
    outputTokens: count(meta, "candidatesTokenCount"),
    imageTokens,
    thoughtTokens: count(meta, "thoughtsTokenCount"),
  };
}

/**
 * Turns a `generateContent` body into an outcome. HTTP-200 refusals become
 * "blocked", answers without an image "no-image"; never a success without
 * an image.
 */
export function parseGenerateResponse(
  body: unknown,
  apiKey: string,
): ParsedOutcome {
  const clean = (text: string) => shorten(scrub(text, [apiKey]));
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    return fail({
      kind: "malformed",
      message: "Google's answer was not a JSON object",
    });
  }
  const usage = extractUsage(body);
  const failWith = (failure: Failure): ParsedOutcome =>
    usage ? { ok: false, failure, usage } : { ok: false, failure };
  const feedback = field(body, "promptFeedback");
  const blockReason = str(field(feedback, "blockReason"));
  const candidate = first(field(body, "candidates"));
  if (!candidate) {
    if (blockReason) {
      return failWith({
        kind: "blocked",
        message: clean(
          join(
            `The prompt was blocked (${blockReason})`,
            str(field(feedback, "blockReasonMessage")),
          ),
        ),
      });
    }
    return failWith({
      kind: "malformed",
      message: "Google's answer had no candidates",
    });
  }
  const finishReason = str(field(candidate, "finishReason"));
  const finishMessage = str(field(candidate, "finishMessage"));
  const parts = field(field(candidate, "content"), "parts");
  const list = Array.isArray(parts) ? parts : [];
  const reason = finishReason ?? blockReason;
  if (reason && BLOCK_REASONS.has(reason)) {
    return failWith({
      kind: "blocked",
      message: clean(
        join(`Google blocked this image (${reason})`, finishMessage),
      ),
    });
  }
  const image = pickImage(list);
  if (image) return usage ? { ok: true, image, usage } : { ok: true, image };
  const text = list
    .filter((p) => field(p, "thought") !== true)
    .map((p) => str(field(p, "text")) ?? "")
    .join(" ")
    .trim();
  const message = text
    ? `The model answered with text instead of an image: ${text}`
    : join(
      `The model returned no image (${finishReason ?? "no finish reason"})`,
      finishMessage,
    );
  return failWith({ kind: "no-image", message: clean(message) });
}

/** The last inline image without `thought: true`, else the last inline image. */
export function pickImage(parts: readonly unknown[]): InlineImage | undefined {
  let last: InlineImage | undefined;
  let lastFinal: InlineImage | undefined;
  for (const part of parts) {
    const inline = field(part, "inlineData");
    const data = str(field(inline, "data"));
    if (!data) continue;
    const image = { mimeType: str(field(inline, "mimeType")) ?? "", data };
    last = image;
    if (field(part, "thought") !== true) lastFinal = image;
  }
  return lastFinal ?? last;
}

/** Decodes an inline image; throws a SyntaxError on broken base64. */
export function decodeImage(image: InlineImage): Uint8Array {
  const compact = image.data.replace(/\s+/g, "");
  const alphabet = /[-_]/.test(compact) ? "base64url" : "base64";
  const bytes = Uint8Array.fromBase64(compact, { alphabet });
  if (bytes.length === 0) throw new SyntaxError("Image data is empty");
  return bytes;
}

function fail(failure: Failure): ParsedOutcome {
  return { ok: false, failure };
}

function field(value: unknown, name: string): unknown {
  return value && typeof value === "object"
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

function first(value: unknown): unknown {
  return Array.isArray(value) && value.length > 0 ? value[0] : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

/** A token count from upstream: a whole number from 0 to the limit. */
function count(value: unknown, name: string): number {
  const n = field(value, name);
  return typeof n === "number" && Number.isFinite(n) && n > 0
    ? Math.min(Math.floor(n), LIMITS.tokensPerAnswer)
    : 0;
}

function join(head: string, tail: string | undefined): string {
  return tail ? `${head}: ${tail}` : head;
}

function shorten(text: string, max = MAX_TEXT): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > max ? oneLine.slice(0, max - 1) + "…" : oneLine;
}
