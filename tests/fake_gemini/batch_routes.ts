/**
 * The Batch API's paths (gemini-api.md §2.1): create on the model, then
 * get, cancel, delete and list under `/{v}/batches`.
 */
import {
  cancelBatch,
  createBatch,
  deleteBatch,
  getBatch,
  listBatches,
} from "./batches.ts";
import type { Outcome } from "./http.ts";
import type { FakeState } from "./state.ts";

/** A Batch API request. */
export type BatchRoute =
  | { kind: "list"; version: string }
  | {
    kind: "create" | "get" | "cancel" | "delete";
    version: string;
    id: string;
  };

/**
 * Maps a `/{v}/{collection}/{id}:{action}` request to a Batch route;
 * undefined when it is none (the router answers 404 then).
 */
export function matchBatchRoute(
  method: string,
  parts: { collection: string; version: string; id?: string; action?: string },
): BatchRoute | undefined {
  const { collection, version, id, action } = parts;
  if (collection === "models") {
    return id && action === "batchGenerateContent" && method === "POST"
      ? { kind: "create", version, id }
      : undefined;
  }
  if (!id) return method === "GET" ? { kind: "list", version } : undefined;
  if (action === "cancel" && method === "POST") {
    return { kind: "cancel", version, id };
  }
  if (action) return undefined;
  if (method === "GET") return { kind: "get", version, id };
  return method === "DELETE" ? { kind: "delete", version, id } : undefined;
}

/** Answers a Batch API request (the key is already checked). */
export async function answerBatch(
  state: FakeState,
  route: BatchRoute,
  request: { url: URL; body: unknown },
): Promise<Outcome> {
  switch (route.kind) {
    case "create":
      return createBatch(state, {
        version: route.version,
        model: route.id,
        origin: request.url.origin,
        body: request.body,
      });
    case "get":
      return await getBatch(state, route.id);
    case "cancel":
      return await cancelBatch(state, route.id);
    case "delete":
      return deleteBatch(state, route.id);
    case "list":
      return listBatches(state, request.url);
  }
}
