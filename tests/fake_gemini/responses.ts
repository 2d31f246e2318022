/**
 * Bodies of HTTP-200 generateContent answers: images with thought parts,
 * blocks at candidate and prompt level, and text-only answers (§2.3).
 */
import type { ModelEntry } from "./catalog.ts";
import { pngBase64, type Rgb } from "./png.ts";
import { hashText } from "./scenarios.ts";
import { imageTokens, pixelSize } from "./sizes.ts";

/** A validated generateContent request. */
export interface Plan {
  model: ModelEntry;
  /** Every text part of every content, joined by newlines. */
  prompt: string;
  /** inlineData / fileData parts sent as references. */
  inputImages: number;
  modalities: string[];
  /** Absent when the model or the request asks for text only. */
  image?: { ratio: string; size: string };
}

/** Grey, so tests can tell the interim thought image from the final one. */
const THOUGHT_GREY: Rgb = [128, 128, 128];
const INPUT_IMAGE_TOKENS = 560;
const BLOCK_THOUGHT_TOKENS = 240;
const CLOSING_TEXT = "Here is your image.";
const TEXT_ONLY_ANSWER =
  "I can't draw that, but here is a description: a quiet scene in soft morning light, with the subject centred and a plain background.";
const FINISH_MESSAGES: Record<string, string> = {
  IMAGE_SAFETY: "The generated image was blocked by a safety filter.",
  IMAGE_PROHIBITED_CONTENT:
    "The generated image may contain prohibited content.",
  NO_IMAGE:
    "The model was expected to generate an image, but none was generated.",
};

function tokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function promptUsage(plan: Plan) {
  const text = tokens(plan.prompt);
  const images = plan.inputImages * INPUT_IMAGE_TOKENS;
  const details = [{ modality: "TEXT", tokenCount: text }];
  if (images > 0) details.push({ modality: "IMAGE", tokenCount: images });
  return { promptTokenCount: text + images, promptTokensDetails: details };
}

function envelope(plan: Plan) {
  return { modelVersion: plan.model.id, responseId: randomId(16) };
}

function randomId(bytes: number): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...raw)).replace(/[+/=]/g, "");
}

/** The final image's colour: stable per prompt and never the thought grey. */
export function promptColour(prompt: string): Rgb {
  const h = hashText(prompt);
  const rgb: [number, number, number] = [
    (h >>> 16) & 255,
    (h >>> 8) & 255,
    h & 255,
  ];
  if (rgb.every((c) => c === 128)) rgb[0] = 200;
  return rgb;
}

/** A successful image: optional thought text and grey draft, the final PNG, then text if TEXT was asked for. */
export async function imageBody(
  plan: Plan,
  options: { thoughts: boolean; imageBytes?: number },
) {
  const image = plan.image ?? { ratio: "1:1", size: "1K" };
  const { width, height } = pixelSize(image.ratio, image.size);
  const parts: Record<string, unknown>[] = [];
  let thoughtTokens = 0;
  if (options.thoughts) {
    const thought =
      `**Composing the scene**\n\nPlanning a ${image.ratio} layout at ${image.size}, then refining colour and detail.`;
    // Drafts are smaller than the final render, which keeps answers light.
    const draft = pixelSize(image.ratio, "512");
    parts.push({ text: thought, thought: true });
    parts.push({
      inlineData: {
        mimeType: "image/png",
        data: await pngBase64(draft.width, draft.height, THOUGHT_GREY),
      },
      thought: true,
    });
    thoughtTokens = 64 + tokens(thought);
  }
  parts.push({
    inlineData: {
      mimeType: "image/png",
      data: await pngBase64(
        width,
        height,
        promptColour(plan.prompt),
        options.imageBytes,
      ),
    },
    thoughtSignature: randomId(48),
  });
  let textTokens = 0;
  if (plan.modalities.includes("TEXT")) {
    parts.push({ text: CLOSING_TEXT });
    textTokens = tokens(CLOSING_TEXT);
  }
  const prompt = promptUsage(plan);
  const imageCount = imageTokens(plan.model.id, image.size);
  const usage: Record<string, unknown> = {
    ...prompt,
    candidatesTokenCount: imageCount + textTokens,
    // Google lists only the image here; candidatesTokenCount also holds the text.
    candidatesTokensDetails: [{ modality: "IMAGE", tokenCount: imageCount }],
  };
  if (thoughtTokens > 0) usage.thoughtsTokenCount = thoughtTokens;
  usage.totalTokenCount = prompt.promptTokenCount + imageCount + textTokens +
    thoughtTokens;
  usage.serviceTier = "STANDARD";
  return {
    candidates: [{
      content: { role: "model", parts },
      finishReason: "STOP",
      index: 0,
    }],
    usageMetadata: usage,
    ...envelope(plan),
  };
}

/** HTTP 200 with a candidate that has a finishReason and no parts. */
export function candidateBlockBody(plan: Plan, reason: string) {
  const why = FINISH_MESSAGES[reason] ?? "The request could not be completed.";
  const { promptTokenCount } = promptUsage(plan);
  return {
    candidates: [{
      content: { role: "model" },
      finishReason: reason,
      finishMessage:
        `The model output could not be generated. ${why} Support code: 42876398.`,
      index: 0,
    }],
    usageMetadata: {
      promptTokenCount,
      thoughtsTokenCount: BLOCK_THOUGHT_TOKENS,
      totalTokenCount: promptTokenCount + BLOCK_THOUGHT_TOKENS,
    },
    ...envelope(plan),
  };
}

/** HTTP 200 with promptFeedback.blockReason and no `candidates` key at all. */
export function promptBlockBody(plan: Plan, reason: string) {
  const { promptTokenCount } = promptUsage(plan);
  return {
    promptFeedback: { blockReason: reason },
    usageMetadata: { promptTokenCount, totalTokenCount: promptTokenCount },
    ...envelope(plan),
  };
}

/** STOP with a single text part (the model chatted instead of drawing). */
export function textBody(plan: Plan, text = TEXT_ONLY_ANSWER) {
  const prompt = promptUsage(plan);
  const out = tokens(text);
  return {
    candidates: [{
      content: { role: "model", parts: [{ text }] },
      finishReason: "STOP",
      index: 0,
    }],
    usageMetadata: {
      ...prompt,
      candidatesTokenCount: out,
      totalTokenCount: prompt.promptTokenCount + out,
      serviceTier: "STANDARD",
    },
    ...envelope(plan),
  };
}
