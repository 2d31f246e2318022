/**
 * Per-prompt scenario markers and seeded fault injection. Markers are matched
 * case-sensitively anywhere in the prompt text.
 */

/** What the markers in one prompt ask for. */
export interface Markers {
  /** `[block:REASON]`: candidate with that finishReason and no parts. */
  blockReason?: string;
  /** `[block-prompt:REASON]`: promptFeedback.blockReason and no candidates. */
  promptBlockReason?: string;
  /** `[text-only]`: STOP with one text part. */
  textOnly: boolean;
  /** `[status:N]`: always answer that error. */
  status?: number;
  /** `[daily-quota]`: 429 with the per-day QuotaFailure. */
  dailyQuota: boolean;
  /** `[fail-once:N]` / `[fail-times:K:N]`: the first K requests with this prompt fail with N. */
  fail?: { times: number; status: number };
  /** `[slow:MS]`: extra latency. */
  slowMs: number;
  /** `[malformed]`: 200 with truncated JSON. */
  malformed: boolean;
  /** `[thoughts]` / `[no-thoughts]`; undefined leaves the default. */
  thoughts?: boolean;
}

/** Marker syntax, for docs and error messages. */
export const MARKERS = [
  "[block:IMAGE_SAFETY]",
  "[block:IMAGE_PROHIBITED_CONTENT]",
  "[block:NO_IMAGE]",
  "[block-prompt:PROHIBITED_CONTENT]",
  "[text-only]",
  "[status:429]",
  "[status:500]",
  "[status:503]",
  "[daily-quota]",
  "[fail-once:503]",
  "[fail-once:429]",
  "[fail-times:N:503]",
  "[slow:MS]",
  "[malformed]",
  "[thoughts]",
  "[no-thoughts]",
  // Job-level, for the Batch API (batches.ts).
  "[batch:fail]",
  "[batch:expire]",
  "[batch:cancel]",
  "[batch:too-large]",
] as const;

/** Reads every marker in `prompt`. */
export function parseMarkers(prompt: string): Markers {
  const failOnce = /\[fail-once:(\d{3})\]/.exec(prompt);
  const failTimes = /\[fail-times:(\d+):(\d{3})\]/.exec(prompt);
  const status = /\[status:(\d{3})\]/.exec(prompt);
  const slow = /\[slow:(\d+)\]/.exec(prompt);
  const markers: Markers = {
    textOnly: prompt.includes("[text-only]"),
    dailyQuota: prompt.includes("[daily-quota]"),
    slowMs: slow ? Number(slow[1]) : 0,
    malformed: prompt.includes("[malformed]"),
  };
  const block = /\[block:([A-Z_]+)\]/.exec(prompt)?.[1];
  if (block) markers.blockReason = block;
  const promptBlock = /\[block-prompt:([A-Z_]+)\]/.exec(prompt)?.[1];
  if (promptBlock) markers.promptBlockReason = promptBlock;
  if (status) markers.status = Number(status[1]);
  if (failTimes) {
    markers.fail = {
      times: Number(failTimes[1]),
      status: Number(failTimes[2]),
    };
  } else if (failOnce) {
    markers.fail = { times: 1, status: Number(failOnce[1]) };
  }
  if (prompt.includes("[no-thoughts]")) markers.thoughts = false;
  else if (prompt.includes("[thoughts]")) markers.thoughts = true;
  return markers;
}

/** Fault kinds of `FakeGeminiOptions.faults`, in the order they are drawn. */
export const FAULT_KINDS = [
  "rate429",
  "rate500",
  "rate503",
  "timeout",
  "malformed",
] as const;

/** One of FAULT_KINDS. */
export type FaultKind = typeof FAULT_KINDS[number];

/** mulberry32: tiny, fast, and good enough to make fault runs repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Picks at most one fault for a request. Exactly one number is drawn per
 * request, whatever the rates, so the n-th request always meets the same fate.
 */
export function drawFault(
  random: () => number,
  faults: Partial<Record<FaultKind, number>> = {},
): FaultKind | undefined {
  const roll = random();
  let threshold = 0;
  for (const kind of FAULT_KINDS) {
    threshold += faults[kind] ?? 0;
    if (roll < threshold) return kind;
  }
  return undefined;
}

/** FNV-1a, used to derive a stable colour from a prompt. */
export function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  }
  return h >>> 0;
}
