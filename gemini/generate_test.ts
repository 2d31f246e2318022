import assert from "node:assert/strict";
import {
  decodeImage,
  extractUsage,
  type Outcome,
  parseGenerateResponse,
  pickImage,
} from "./generate.ts";

const KEY = "kZ3v9QpLr7TmWx2NbY8cHd4FsJ6gUe1A";
const DRAFT = btoa("draft-image-bytes");
const FINAL = btoa("final-image-bytes");

// Shape of a real thinking-model answer (gemini-api.md §2.3).
const THINKING_SUCCESS = {
  candidates: [{
    content: {
      role: "model",
      parts: [
        { text: "planning the layout…", thought: true },
        { inlineData: { mimeType: "image/jpeg", data: DRAFT }, thought: true },
        {
          inlineData: { mimeType: "image/jpeg", data: FINAL },
          thoughtSignature: "opaque",
        },
        { inlineData: { mimeType: "image/jpeg", data: DRAFT }, thought: true },
        { text: "Here is your image." },
      ],
    },
    finishReason: "STOP",
    index: 0,
  }],
  usageMetadata: {
    promptTokenCount: 1130,
    promptTokensDetails: [
      { modality: "TEXT", tokenCount: 10 },
      { modality: "IMAGE", tokenCount: 1120 },
    ],
    candidatesTokenCount: 1223,
    candidatesTokensDetails: [{ modality: "IMAGE", tokenCount: 1120 }],
    thoughtsTokenCount: 106,
    totalTokenCount: 2459,
    serviceTier: "STANDARD",
  },
  modelVersion: "gemini-3-pro-image",
  responseId: "abc",
};

function failure(outcome: Outcome) {
  assert.equal(outcome.ok, false);
  return (outcome as Extract<Outcome, { ok: false }>).failure;
}

Deno.test("parseGenerateResponse() keeps the last non-thought image", () => {
  const outcome = parseGenerateResponse(THINKING_SUCCESS, KEY);
  assert.ok(outcome.ok);
  assert.deepEqual(outcome.image, { mimeType: "image/jpeg", data: FINAL });
  assert.deepEqual(outcome.usage, {
    promptTokens: 1130,
    outputTokens: 1223,
    imageTokens: 1120,
    thoughtTokens: 106,
  });
});

Deno.test("parseGenerateResponse() keeps an image flagged only as thought", () => {
  const outcome = parseGenerateResponse({
    candidates: [{
      content: {
        parts: [
          { text: "thinking", thought: true },
          { inlineData: { mimeType: "image/png", data: DRAFT }, thought: true },
        ],
      },
      finishReason: "STOP",
    }],
  }, KEY);
  assert.ok(outcome.ok);
  assert.equal(outcome.image.data, DRAFT);
  assert.equal(outcome.usage, undefined);
});

Deno.test("parseGenerateResponse() reports a candidate block with usage", () => {
  const outcome = parseGenerateResponse({
    candidates: [{
      content: { role: "model" },
      finishReason: "IMAGE_PROHIBITED_CONTENT",
      finishMessage:
        "The model output could not be generated. Support code: 42876398.",
    }],
    usageMetadata: {
      promptTokenCount: 1119,
      thoughtsTokenCount: 240,
      totalTokenCount: 1359,
    },
    modelVersion: "gemini-3-pro-image",
  }, KEY);
  const f = failure(outcome);
  assert.equal(f.kind, "blocked");
  assert.match(f.message, /IMAGE_PROHIBITED_CONTENT/);
  assert.match(f.message, /Support code: 42876398/);
  assert.deepEqual(outcome.usage, {
    promptTokens: 1119,
    outputTokens: 0,
    imageTokens: 0,
    thoughtTokens: 240,
  });
});

Deno.test("parseGenerateResponse() treats a safety finish as blocked even with a draft", () => {
  const outcome = parseGenerateResponse({
    candidates: [{
      content: {
        parts: [{
          inlineData: { mimeType: "image/png", data: DRAFT },
          thought: true,
        }],
      },
      finishReason: "IMAGE_SAFETY",
    }],
  }, KEY);
  const f = failure(outcome);
  assert.equal(f.kind, "blocked");
  assert.match(f.message, /IMAGE_SAFETY/);
});

Deno.test("parseGenerateResponse() reports a prompt block without candidates", () => {
  const outcome = parseGenerateResponse({
    promptFeedback: { blockReason: "PROHIBITED_CONTENT" },
    usageMetadata: { promptTokenCount: 13, totalTokenCount: 13 },
  }, KEY);
  const f = failure(outcome);
  assert.equal(f.kind, "blocked");
  assert.match(f.message, /prompt was blocked \(PROHIBITED_CONTENT\)/);
  assert.equal(outcome.usage?.promptTokens, 13);
});

Deno.test("parseGenerateResponse() turns a text-only STOP into no-image with the text", () => {
  const outcome = parseGenerateResponse({
    candidates: [{
      content: {
        parts: [
          { text: "secret plan", thought: true },
          { text: "I cannot draw that, but here is a poem." },
        ],
      },
      finishReason: "STOP",
    }],
  }, KEY);
  const f = failure(outcome);
  assert.equal(f.kind, "no-image");
  assert.equal(
    f.message,
    "The model answered with text instead of an image: I cannot draw that, but here is a poem.",
  );
});

Deno.test("parseGenerateResponse() reports NO_IMAGE with its finish message", () => {
  const f = failure(parseGenerateResponse({
    candidates: [{
      finishReason: "NO_IMAGE",
      finishMessage: "No image was generated.",
    }],
  }, KEY));
  assert.equal(f.kind, "no-image");
  assert.match(f.message, /no image \(NO_IMAGE\): No image was generated/);
});

Deno.test("parseGenerateResponse() calls bodies without candidates malformed", () => {
  assert.equal(failure(parseGenerateResponse({}, KEY)).kind, "malformed");
  assert.equal(failure(parseGenerateResponse([1, 2], KEY)).kind, "malformed");
  assert.equal(failure(parseGenerateResponse(null, KEY)).kind, "malformed");
});

Deno.test("parseGenerateResponse() scrubs the key out of model text", () => {
  const f = failure(parseGenerateResponse({
    candidates: [{
      content: { parts: [{ text: `your key is ${KEY}` }] },
      finishReason: "STOP",
    }],
  }, KEY));
  assert.equal(f.message.includes(KEY.slice(4, 12)), false);
  assert.match(f.message, /\[REDACTED\]/);
});

Deno.test("pickImage() ignores parts without data", () => {
  assert.equal(
    pickImage([{ text: "x" }, { inlineData: { mimeType: "image/png" } }]),
    undefined,
  );
});

Deno.test("extractUsage() sums IMAGE modality tokens and defaults to zero", () => {
  assert.deepEqual(
    extractUsage({
      usageMetadata: {
        candidatesTokenCount: 1300,
        candidatesTokensDetails: [
          { modality: "IMAGE", tokenCount: 1120 },
          { modality: "TEXT", tokenCount: 60 },
          { modality: "IMAGE", tokenCount: 100 },
        ],
      },
    }),
    {
      promptTokens: 0,
      outputTokens: 1300,
      imageTokens: 1220,
      thoughtTokens: 0,
    },
  );
  assert.equal(extractUsage({ candidates: [] }), undefined);
});

Deno.test("decodeImage() decodes base64 and rejects broken data", () => {
  assert.deepEqual(
    decodeImage({ mimeType: "image/png", data: btoa("\x01\x02\x03") }),
    new Uint8Array([1, 2, 3]),
  );
  assert.throws(
    () => decodeImage({ mimeType: "image/png", data: "@@@" }),
    SyntaxError,
  );
});
