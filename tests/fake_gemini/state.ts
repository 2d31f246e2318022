/**
 * Everything one fake remembers between requests.
 */
import type { FakeGeminiOptions, RecordedRequest } from "../fake_gemini.ts";
import type { BatchJob } from "./batches.ts";
import { buildCatalog, defaultModelIds, type ModelEntry } from "./catalog.ts";
import type { StoredFile, UploadSession } from "./files_upload.ts";
import { seededRandom } from "./scenarios.ts";

/** Mutable state of one fake server. */
export interface FakeState {
  options: FakeGeminiOptions;
  models: ModelEntry[];
  random: () => number;
  /** Failures already served per exact prompt, for `[fail-times:…]`. */
  failures: Map<string, number>;
  /** Per request quota: arrival times of the requests inside its window. */
  admitted: number[][];
  batches: Map<string, BatchJob>;
  /** Uploaded files by name ("files/<id>"). */
  files: Map<string, StoredFile>;
  /** Started resumable uploads by upload_id. */
  uploads: Map<string, UploadSession>;
  filesUploaded: number;
  filesDeleted: number;
  requests: RecordedRequest[];
  generate: number;
  byStatus: Record<number, number>;
  inFlight: number;
  maxInFlight: number;
  /** Aborted by close(), so held and sleeping requests end at once. */
  closing: AbortController;
}

/** Fresh state for `options`. */
export function createState(options: FakeGeminiOptions): FakeState {
  return {
    options,
    models: buildCatalog(options.models ?? defaultModelIds()),
    random: seededRandom(options.seed ?? 1),
    failures: new Map(),
    admitted: requestQuotas(options).map(() => []),
    batches: new Map(),
    files: new Map(),
    uploads: new Map(),
    filesUploaded: 0,
    filesDeleted: 0,
    requests: [],
    generate: 0,
    byStatus: {},
    inFlight: 0,
    maxInFlight: 0,
    closing: new AbortController(),
  };
}

/**
 * The request quotas a fake enforces: `quotas`, or the single window
 * `rateLimitPerMinute` / `rateWindowMs` describe.
 */
export function requestQuotas(
  options: FakeGeminiOptions,
): { limit: number; windowMs: number }[] {
  if (options.quotas) return options.quotas;
  const limit = options.rateLimitPerMinute;
  if (limit === undefined) return [];
  return [{ limit, windowMs: options.rateWindowMs ?? 60_000 }];
}
