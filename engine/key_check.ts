/**
 * Validates a key by listing the models it can use (`GET models`) and keeps
 * the image-capable ones. Runs for the duration of the validate request only
 * (K3); every text from Google is scrubbed (K5), the models' names included.
 */
import { ApiError } from "@google/genai";
import { findModel, type ModelInfo } from "../core/catalog.ts";
import { refuse, type Result } from "../core/result.ts";
import { createScrubber } from "../core/scrub.ts";
import { createGeminiClient, RedirectRefusedError } from "../gemini/client.ts";
import { parseGoogleError } from "../gemini/errors.ts";

/** A model the key can use, with what BatchGen knows of it. */
export interface AvailableModel {
  id: string;
  displayName: string;
  known: ModelInfo | undefined;
}

/** The signature the app depends on (tests pass their own). */
export type CheckKey = typeof checkKey;

const MAX_TEXT = 500;
/** One check lists at most this many pages: an upstream may page forever. */
export const MAX_MODEL_PAGES = 5;
/** One check, every page included, ends within this. */
const CHECK_DEADLINE_MS = 20_000;

/** Lists the image models `apiKey` can use, or explains why it cannot. */
export async function checkKey(
  apiKey: string,
  baseUrl: string,
  { signal, timeoutMs = CHECK_DEADLINE_MS }: {
    signal?: AbortSignal;
    timeoutMs?: number;
  } = {},
): Promise<Result<AvailableModel[]>> {
  const ai = createGeminiClient({ apiKey, baseUrl, timeoutMs });
  const { scrub } = createScrubber([apiKey]);
  // One deadline for the whole check, and the request's own signal: when the
  // client goes, so does the key (K6).
  const deadline = AbortSignal.timeout(timeoutMs);
  const abortSignal = signal ? AbortSignal.any([signal, deadline]) : deadline;
  try {
    const models: AvailableModel[] = [];
    const pager = await ai.models.list({
      config: { pageSize: 1000, abortSignal },
    });
    for (let pages = 1;; pages++) {
      for (const model of pager.page) {
        const id = scrub((model.name ?? "").replace(/^models\//, ""))
          .slice(0, MAX_TEXT);
        if (!id || !isImageModel(id, model.supportedActions)) continue;
        models.push({
          id,
          displayName: scrub(model.displayName ?? id).slice(0, MAX_TEXT),
          known: findModel(id),
        });
      }
      if (!pager.hasNextPage() || pages >= MAX_MODEL_PAGES) break;
      await pager.nextPage();
    }
    return { ok: true, value: models };
  } catch (error) {
    return describeFailure(error, scrub, deadline.aborted);
  }
}

function isImageModel(id: string, actions: string[] | undefined) {
  if (findModel(id)) return true;
  const generates = !actions || actions.includes("generateContent");
  return generates && /image/i.test(id) && !/^imagen-/.test(id);
}

function describeFailure(
  error: unknown,
  scrub: (text: string) => string,
  pastDeadline: boolean,
): Result<never> {
  if (pastDeadline) {
    return refuse(
      "google_unreachable",
      "Could not check the key: Google did not finish answering in time.",
    );
  }
  if (error instanceof RedirectRefusedError) {
    return refuse("google_error", `Could not check the key: ${error.message}.`);
  }
  if (error instanceof ApiError) {
    const google = parseGoogleError(error.message);
    const text = scrub(google.message ?? error.message).slice(0, MAX_TEXT);
    if ([400, 401, 403].includes(error.status)) {
      return refuse("key_rejected", `Google rejected this key: ${text}`);
    }
    return refuse("google_error", `Google answered ${error.status}: ${text}`);
  }
  return refuse(
    "google_unreachable",
    `Could not reach Google to check the key: ${
      scrub(error instanceof Error ? error.message : String(error)).slice(
        0,
        MAX_TEXT,
      )
    }`,
  );
}
