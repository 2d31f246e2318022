/**
 * Validates a key by listing the models it can use (`GET models`) and keeps
 * the image-capable ones. Runs in the server process for the duration of the
 * validate request only (K3); every error is scrubbed (K5).
 */
import { ApiError, GoogleGenAI } from "@google/genai";
import { findModel, type ModelInfo } from "../core/catalog.ts";
import { scrub } from "../core/scrub.ts";

/** A model the key can use, with what BatchGen knows of it. */
export interface AvailableModel {
  id: string;
  displayName: string;
  known: ModelInfo | undefined;
}

export type KeyCheck =
  | { ok: true; models: AvailableModel[] }
  | { ok: false; status: number; code: string; message: string };

/** Lists the image models `apiKey` can use, or explains why it cannot. */
export async function checkKey(
  apiKey: string,
  baseUrl: string,
  { signal, timeoutMs = 20_000 }: { signal?: AbortSignal; timeoutMs?: number } =
    {},
): Promise<KeyCheck> {
  const ai = new GoogleGenAI({
    apiKey,
    apiVersion: "v1beta",
    httpOptions: { baseUrl, timeout: timeoutMs },
  });
  try {
    const models: AvailableModel[] = [];
    // The request's own signal: when the client goes, so does the key (K6).
    const pager = await ai.models.list({
      config: { pageSize: 1000, abortSignal: signal },
    });
    for await (const model of pager) {
      const id = (model.name ?? "").replace(/^models\//, "");
      if (!id || !isImageModel(id, model.supportedActions)) continue;
      models.push({
        id,
        displayName: model.displayName ?? id,
        known: findModel(id),
      });
    }
    return { ok: true, models };
  } catch (error) {
    return describeFailure(error, apiKey);
  }
}

function isImageModel(id: string, actions: string[] | undefined) {
  if (findModel(id)) return true;
  const generates = !actions || actions.includes("generateContent");
  return generates && /image/i.test(id) && !/^imagen-/.test(id);
}

function describeFailure(
  error: unknown,
  apiKey: string,
): KeyCheck & { ok: false } {
  if (error instanceof ApiError) {
    const google = parseGoogleError(error.message);
    const text = scrub(google?.message ?? error.message, [apiKey]).slice(
      0,
      500,
    );
    if ([400, 401, 403].includes(error.status)) {
      return {
        ok: false,
        status: 422,
        code: "key_rejected",
        message: `Google rejected this key: ${text}`,
      };
    }
    return {
      ok: false,
      status: 502,
      code: "google_error",
      message: `Google answered ${error.status}: ${text}`,
    };
  }
  return {
    ok: false,
    status: 502,
    code: "google_unreachable",
    message: `Could not reach Google to check the key: ${
      scrub(error instanceof Error ? error.message : String(error), [apiKey])
    }`,
  };
}

/** Reads Google's `{error:{message}}` envelope out of an SDK error message. */
export function parseGoogleError(
  text: string,
): { message?: string; status?: string } | undefined {
  try {
    const parsed = JSON.parse(text);
    return parsed?.error ?? undefined;
  } catch {
    return undefined;
  }
}
