/**
 * `POST /{v}/models/{m}:generateContent`: validation (validate.ts), then
 * quotas, seeded faults and prompt markers, then the 200 answer.
 */
import {
  dailyQuotaError,
  deadlineError,
  perMinuteQuotaError,
  statusError,
} from "./errors.ts";
import type { Outcome } from "./http.ts";
import {
  candidateBlockBody,
  imageBody,
  type Plan,
  promptBlockBody,
  textBody,
} from "./responses.ts";
import { drawFault, type Markers, parseMarkers } from "./scenarios.ts";
import { type FakeState, requestQuotas } from "./state.ts";
import { planGenerate } from "./validate.ts";

/** Parsed request details the handler needs. */
export interface GenerateRequest {
  version: string;
  model: string;
  key: string;
  /** Parsed JSON body, or undefined when it was not valid JSON. */
  body: unknown;
}

/** Answers a generateContent request (without the latency, which the server adds). */
export async function answerGenerate(
  state: FakeState,
  request: GenerateRequest,
): Promise<Outcome> {
  const result = planGenerate(
    state,
    request.version,
    request.model,
    request.body,
  );
  if (!result.ok) return result.outcome;
  const { plan } = result;
  const markers = parseMarkers(plan.prompt);
  const early = admit(state, request.key, plan) ??
    injectFault(state, plan, markers) ??
    failByMarker(state, plan, markers);
  const outcome = early ?? await answerPlan(state, plan, markers);
  return { ...outcome, delayMs: (outcome.delayMs ?? 0) + markers.slowMs };
}

/**
 * Daily-quota keys and the rolling per-minute limit. Google checks quota
 * before it runs the model, so these 429s come back at once, not after the
 * generation latency.
 */
function admit(state: FakeState, key: string, plan: Plan): Outcome | undefined {
  const refusal = quotaRefusal(state, key, plan);
  return refusal && { ...refusal, immediate: true };
}

function quotaRefusal(
  state: FakeState,
  key: string,
  plan: Plan,
): Outcome | undefined {
  const { options } = state;
  if (options.dailyQuotaKeys?.includes(key)) {
    return dailyQuotaError(plan.model.id);
  }
  // Every quota must have room; a refused request counts against none,
  // and the 429 names the quota that is full (the one free latest).
  const now = performance.now();
  let refusal: { limit: number; windowMs: number; waitMs: number } | undefined;
  requestQuotas(options).forEach(({ limit, windowMs }, i) => {
    const times = state.admitted[i]!;
    while (times.length > 0 && times[0]! <= now - windowMs) times.shift();
    if (times.length < limit) return;
    const waitMs = times[times.length - limit]! + windowMs - now;
    if (!refusal || waitMs > refusal.waitMs) {
      refusal = { limit, windowMs, waitMs };
    }
  });
  if (refusal) {
    const { limit, waitMs, windowMs } = refusal;
    return perMinuteQuotaError(plan.model.id, limit, waitMs, windowMs);
  }
  for (const times of state.admitted) times.push(now);
  return undefined;
}

function injectFault(
  state: FakeState,
  plan: Plan,
  markers: Markers,
): Outcome | undefined {
  switch (drawFault(state.random, state.options.faults)) {
    case "rate429":
      return statusError(429, plan.model.id);
    case "rate500":
      return statusError(500, plan.model.id);
    case "rate503":
      return statusError(503, plan.model.id);
    case "timeout":
      return { ...deadlineError(), hold: true };
    case "malformed":
      markers.malformed = true;
      return undefined;
    default:
      return undefined;
  }
}

function failByMarker(
  state: FakeState,
  plan: Plan,
  markers: Markers,
): Outcome | undefined {
  if (markers.dailyQuota) return dailyQuotaError(plan.model.id);
  if (markers.status !== undefined) {
    return statusError(markers.status, plan.model.id);
  }
  if (!markers.fail) return undefined;
  const served = state.failures.get(plan.prompt) ?? 0;
  if (served >= markers.fail.times) return undefined;
  state.failures.set(plan.prompt, served + 1);
  return statusError(markers.fail.status, plan.model.id);
}

/** The 200 answer for a plan: blocks, text, or the image (batches reuse this). */
export async function answerPlan(
  state: FakeState,
  plan: Plan,
  markers: Markers,
): Promise<Outcome> {
  if (markers.promptBlockReason) {
    return {
      status: 200,
      body: promptBlockBody(plan, markers.promptBlockReason),
    };
  }
  if (markers.blockReason) {
    return { status: 200, body: candidateBlockBody(plan, markers.blockReason) };
  }
  if (!plan.model.image) {
    return {
      status: 200,
      body: textBody(plan, "This model answers in text only."),
    };
  }
  if (markers.textOnly || !plan.image) {
    return { status: 200, body: textBody(plan) };
  }
  const thoughts = markers.thoughts ?? state.options.thoughts ??
    (plan.model.id.startsWith("gemini-3") ||
      plan.model.id.includes("nano-banana"));
  const body = await imageBody(plan, {
    thoughts,
    imageBytes: state.options.imageBytes,
  });
  if (!markers.malformed) return { status: 200, body };
  const text = JSON.stringify(body);
  return { status: 200, body, raw: text.slice(0, Math.floor(text.length / 2)) };
}
