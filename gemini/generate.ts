/**
 * One request to Gemini → one image (or one classified failure). Google's
 * answer is parsed here rather than through the SDK's `response.data`, which
 * concatenates every inline part, thought drafts included (gemini-api.md §2.3).
 */
import type { Usage } from "../core/cost.ts";
import { LIMITS } from "../core/limits.ts";
import { scrub } from "../core/scrub.ts";
import { classifyError, type Failure } from "./errors.ts";
import { createGeminiClient } from "./client.ts";
import { type ReferencePart, requestContents } from "./parts.ts";

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

/** The result of one request: an image, or a failure; usage when known. */
export type Outcome =
  | { ok: true; image: InlineImage; usage?: Usage }
  | { ok: false; failure: Failure; usage?: Usage };

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

/** Creates the process's one SDK client and returns its request function. */
export function createGeminiRequester(
  options: { apiKey: string; baseUrl?: string },
): RequestImage {
  const { apiKey } = options;
  // The pool times each request itself (generator/attempt.ts).
  const ai = createGeminiClient({ apiKey, baseUrl: options.baseUrl });
  return async function requestImage(request, signal) {
    try {
      const response = await ai.models.generateContent({
        model: request.model,
        contents: request.references?.length
          ? requestContents(request.prompt, request.references)
          : request.prompt,
        config: {
          responseModalities: ["TEXT", "IMAGE"],
          // One image per request: Google rejects candidateCount > 1.
          candidateCount: 1,
          imageConfig: request.imageSize === undefined
            ? { aspectRatio: request.aspectRatio }
            : {
              aspectRatio: request.aspectRatio,
              imageSize: request.imageSize,
            },
          abortSignal: signal,
        },
      });
      return parseGenerateResponse(response, apiKey);
    } catch (error) {
      return { ok: false, failure: classifyError(error, { apiKey, signal }) };
    }
  };
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
export function parseGenerateResponse(body: unknown, apiKey: string): Outcome {
  const clean = (text: string) => shorten(scrub(text, [apiKey]));
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    return fail({
      kind: "malformed",
      message: "Google's answer was not a JSON object",
    });
  }
  const usage = extractUsage(body);
  const failWith = (failure: Failure): Outcome =>
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

function fail(failure: Failure): Outcome {
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

function shorten(text: string): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > MAX_TEXT
    ? oneLine.slice(0, MAX_TEXT - 1) + "…"
    : oneLine;
}
