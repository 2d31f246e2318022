/**
 * Routes, key checks, latency and bookkeeping for every request the fake
 * receives (both `/v1/` and `/v1beta/`, and `/upload/…` for the Files API).
 */
import type { FakeGeminiOptions, RecordedRequest } from "../fake_gemini.ts";
import {
  type Answer,
  answerResponse,
  batchFilesAnswer,
} from "./batch_files.ts";
import {
  answerBatch,
  type BatchRoute,
  matchBatchRoute,
} from "./batch_routes.ts";
import { getModel, listModels } from "./catalog.ts";
import {
  expiredKeyError,
  invalidKeyError,
  leakedKeyError,
  missingKeyError,
  routeNotFoundError,
  unsupportedKeyError,
} from "./errors.ts";
import {
  answerFiles,
  type FilesRoute,
  matchFilesRoute,
  readReferences,
} from "./files.ts";
import { answerGenerate } from "./generate.ts";
import { googleError, type Outcome, sleep } from "./http.ts";
import type { FakeState } from "./state.ts";

/** Recorded status of a held (timeout-fault) request whose client gave up (nginx's code). */
export const CLIENT_CLOSED = 499;
/** How long the timeout fault holds a request: Google's own unary limit. */
const HOLD_MS = 10 * 60 * 1000;
const PATH =
  /^\/(v1|v1beta)\/(models|batches)(?:\/([^/:]+)(?::([A-Za-z]+))?)?$/;

/** What a request path asks for. */
export type Route =
  | { kind: "list"; version: string }
  | { kind: "model" | "generate"; version: string; id: string }
  | { kind: "batch"; batch: BatchRoute }
  | { kind: "files"; files: FilesRoute }
  | { kind: "unknown" };

/** Maps method and path to a route; anything else is `unknown`. */
export function matchRoute(method: string, pathname: string): Route {
  const match = PATH.exec(pathname);
  if (!match) return { kind: "unknown" };
  const [, version = "", collection, id, action] = match;
  if (collection === "models" && !id && method === "GET") {
    return { kind: "list", version };
  }
  if (collection === "batches" || action === "batchGenerateContent") {
    const batch = matchBatchRoute(method, {
      collection: collection ?? "",
      version,
      id,
      action,
    });
    return batch ? { kind: "batch", batch } : { kind: "unknown" };
  }
  if (!id) return { kind: "unknown" };
  if (!action && method === "GET") return { kind: "model", version, id };
  if (action === "generateContent" && method === "POST") {
    return { kind: "generate", version, id };
  }
  return { kind: "unknown" };
}

/** The key problem Google would report for `key`, if any. */
export function checkKey(
  options: FakeGeminiOptions,
  key: string,
): Outcome | undefined {
  if (!key) return missingKeyError();
  if (options.leakedKeys?.includes(key)) return leakedKeyError();
  if (options.expiredKeys?.includes(key)) return expiredKeyError();
  if (options.unsupportedKeys?.includes(key)) return unsupportedKeyError();
  const invalid = options.invalidKeys
    ? options.invalidKeys.includes(key)
    : key.startsWith("bad-");
  return invalid ? invalidKeyError(key) : undefined;
}

function parseJson(raw: string): { ok: boolean; value: unknown } {
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch {
    return { ok: false, value: undefined };
  }
}

/** What the router read of a request before answering it. */
interface Incoming {
  url: URL;
  headers: Headers;
  key: string;
  /** Parsed JSON body (undefined when not JSON). */
  json: unknown;
  /** The body as bytes, read only for upload chunks (empty otherwise). */
  bytes: Uint8Array<ArrayBuffer>;
  record: RecordedRequest;
}

async function dispatch(
  state: FakeState,
  route: Route,
  incoming: Incoming,
): Promise<Answer> {
  if (route.kind === "unknown") return { outcome: routeNotFoundError() };
  // Every route, the upload URL included, wants the key like Google does.
  const denied = checkKey(state.options, incoming.key);
  if (denied) return { outcome: denied };
  if (route.kind === "files") {
    // The Batch API's results files change a few Files answers.
    return batchFilesAnswer(state, route.files, incoming.url) ??
      await answerFiles(state, route.files, incoming);
  }
  if (route.kind === "generate") {
    // Google resolves reference files before it runs the model.
    const references = await readReferences(state, incoming.json);
    incoming.record.inputImages = references.images;
    if (references.problem) return { outcome: references.problem };
  }
  return { outcome: await answerRoute(state, route, incoming) };
}

async function answerRoute(
  state: FakeState,
  route: Exclude<Route, { kind: "unknown" | "files" }>,
  { url, key, json: body }: Incoming,
): Promise<Outcome> {
  switch (route.kind) {
    case "list":
      return listModels(state.models, url.searchParams);
    case "model":
      return getModel(state.models, route.id, route.version);
    case "generate":
      return await answerGenerate(state, {
        version: route.version,
        model: route.id,
        key,
        body,
      });
    case "batch":
      return await answerBatch(state, route.batch, { url, body });
  }
}

/** Answers one HTTP request and records it. */
export async function handleRequest(
  state: FakeState,
  request: Request,
): Promise<Response> {
  const url = new URL(request.url);
  const files = matchFilesRoute(request.method, url);
  const route: Route = files
    ? { kind: "files", files }
    : matchRoute(request.method, url.pathname);
  // Upload chunks are image bytes, which would not survive a text decode.
  const binary = files?.kind === "data";
  const bytes = binary
    ? await request.bytes().catch(() => new Uint8Array())
    : new Uint8Array();
  const raw = binary ? "" : await request.text().catch(() => "");
  const parsed = parseJson(raw);
  const record: RecordedRequest = {
    method: request.method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: Object.fromEntries(request.headers),
    body: raw === "" ? null : parsed.ok ? parsed.value : raw,
    status: 0,
  };
  if (binary) record.bodyBytes = bytes.length;
  state.requests.push(record);
  const generating = route.kind === "generate";
  if (generating) {
    state.generate++;
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
  }
  // Like Google, `?key=` works too; the header wins when both are sent.
  const key = request.headers.get("x-goog-api-key") ??
    url.searchParams.get("key") ?? "";
  try {
    let answer: Answer;
    try {
      answer = await dispatch(state, route, {
        url,
        headers: request.headers,
        key,
        json: parsed.value,
        bytes,
        record,
      });
    } catch (error) {
      answer = {
        outcome: googleError(500, `Fake Gemini failed: ${String(error)}`),
      };
    }
    const { outcome } = answer;
    if (outcome.hold) {
      // Only held answers read request.signal: under Deno 2.9's legacy abort
      // mode, reading it prints a one-off warning once the answer goes out.
      // Latency sleeps end at close() instead; Google, too, finishes (and
      // bills) a request whose client went away.
      await sleep(
        HOLD_MS,
        AbortSignal.any([request.signal, state.closing.signal]),
      );
    } else if (generating) {
      const latency = outcome.immediate
        ? 0
        : (state.options.latencyMs ?? 0) + (outcome.delayMs ?? 0);
      await sleep(latency, state.closing.signal);
    }
    record.status = outcome.hold && request.signal.aborted
      ? CLIENT_CLOSED
      : outcome.status;
    if (generating) {
      state.byStatus[record.status] = (state.byStatus[record.status] ?? 0) + 1;
    }
    state.options.onRequest?.(record);
    return answerResponse(answer);
  } finally {
    if (generating) state.inFlight--;
  }
}
