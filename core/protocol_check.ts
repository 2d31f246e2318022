/**
 * The protocol's checks without zod (issue 13 §2): the generator child
 * validates its job and every event it writes with these hand-written
 * equivalents of core/protocol.ts's schemas, so it starts without loading
 * zod. protocol_check_test.ts holds them to the schemas on the same inputs.
 * Only types come from protocol.ts (erased: no zod at run time).
 */
import type { GeneratorEvent, Job, JobItem } from "./protocol.ts";
import { DEFAULTS, LIMITS } from "./limits.ts";
import { FAILURE_KINDS as FAILURE_LIST } from "./failure_kinds.ts";
import { IMAGE_FILE_NAME, IMAGE_MIME_TYPES } from "./files.ts";
import { geminiBaseUrlProblem } from "./loopback.ts";

/** The settings one item's request runs with: its row's, else the job's. */
export function itemSettings(
  job: Pick<Job, "model" | "aspectRatio" | "imageSize">,
  item: JobItem,
): { model: string; aspectRatio: string; imageSize?: string } {
  const imageSize = item.imageSize === undefined
    ? job.imageSize
    : item.imageSize || undefined;
  return {
    model: item.model ?? job.model,
    aspectRatio: item.aspectRatio ?? job.aspectRatio,
    ...(imageSize === undefined ? {} : { imageSize }),
  };
}

const FAILURE_KINDS: ReadonlySet<string> = new Set(FAILURE_LIST);
const MIME_TYPES = new Set<string>(IMAGE_MIME_TYPES);
const SHA256 = /^[0-9a-f]{64}$/;

type Rec = Record<string, unknown>;
class Invalid extends Error {}

const isRecord = (v: unknown): v is Rec =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function fail(path: string, message: string): never {
  throw new Invalid(`${path}: ${message}`);
}

function str(o: Rec, key: string, path: string, min = 0): string {
  const v = o[key];
  if (typeof v !== "string") fail(path + key, "expected string");
  if (v.length < min) fail(path + key, `too short`);
  return v;
}

function optStr(o: Rec, key: string, path: string, min = 0) {
  return o[key] === undefined ? undefined : str(o, key, path, min);
}

function int(
  o: Rec,
  key: string,
  path: string,
  min = -Infinity,
  max = Infinity,
): number {
  const v = o[key];
  if (typeof v !== "number" || !Number.isInteger(v)) {
    fail(path + key, "expected integer");
  }
  if (v < min || v > max) fail(path + key, "out of range");
  return v;
}

function num(o: Rec, key: string, path: string, min: number): number {
  const v = o[key];
  if (typeof v !== "number" || !Number.isFinite(v)) {
    fail(path + key, "expected number");
  }
  if (v < min) fail(path + key, "out of range");
  return v;
}

function put<T extends Rec>(target: T, key: string, value: unknown): T {
  if (value !== undefined) (target as Rec)[key] = value;
  return target;
}

function item(raw: unknown, path: string): JobItem {
  if (!isRecord(raw)) fail(path, "expected object");
  const out: Rec = {
    itemId: str(raw, "itemId", path, 1),
    position: int(raw, "position", path, 0),
    imageIndex: int(raw, "imageIndex", path, 0),
    prompt: str(raw, "prompt", path, 1),
  };
  put(out, "model", optStr(raw, "model", path, 1));
  put(out, "aspectRatio", optStr(raw, "aspectRatio", path, 1));
  put(out, "imageSize", optStr(raw, "imageSize", path));
  if (raw.references !== undefined) {
    const refs = raw.references;
    if (!Array.isArray(refs) || refs.length > LIMITS.referencesPerUpload) {
      fail(path + "references", "expected a short array");
    }
    out.references = refs.map((r, i) => {
      if (typeof r !== "string" || !SHA256.test(r)) {
        fail(`${path}references.${i}`, "expected a sha256");
      }
      return r;
    });
  }
  return out as JobItem;
}

/**
 * `jobSchema.safeParse` without zod: the job with defaults filled and
 * unknown keys dropped, or the first problem found.
 */
export function checkJob(
  raw: unknown,
): { ok: true; job: Job } | { ok: false; problem: string } {
  try {
    if (!isRecord(raw)) fail("(job)", "expected object");
    const job: Rec = {
      batchId: str(raw, "batchId", "", 1),
      model: str(raw, "model", "", 1),
      aspectRatio: str(raw, "aspectRatio", "", 1),
    };
    put(job, "imageSize", optStr(raw, "imageSize", "", 1));
    job.concurrency = int(raw, "concurrency", "", 1, LIMITS.concurrency);
    job.outputDir = str(raw, "outputDir", "", 1);
    const base = optStr(raw, "apiBaseUrl", "");
    if (base !== undefined && geminiBaseUrlProblem(base)) {
      fail(
        "apiBaseUrl",
        "must be https:// (plain http:// only to this machine)",
      );
    }
    put(job, "apiBaseUrl", base);
    job.timeoutMs = raw.timeoutMs === undefined
      ? DEFAULTS.requestTimeoutMs
      : int(
        raw,
        "timeoutMs",
        "",
        LIMITS.minRequestTimeoutMs,
        LIMITS.requestTimeoutMs,
      );
    job.maxAttempts = raw.maxAttempts === undefined
      ? DEFAULTS.maxAttempts
      : int(raw, "maxAttempts", "", 1, LIMITS.maxAttempts);
    if (!Array.isArray(raw.items)) fail("items", "expected array");
    job.items = raw.items.map((it, i) => item(it, `items.${i}.`));
    if (raw.references !== undefined) {
      if (!Array.isArray(raw.references)) fail("references", "expected array");
      job.references = raw.references.map((r, i) => {
        const path = `references.${i}.`;
        if (!isRecord(r)) fail(path, "expected object");
        const sha256 = str(r, "sha256", path);
        if (!SHA256.test(sha256)) fail(path + "sha256", "expected a sha256");
        const mimeType = str(r, "mimeType", path);
        if (!MIME_TYPES.has(mimeType)) fail(path + "mimeType", "unsupported");
        return { sha256, mimeType, path: str(r, "path", path, 1) };
      });
    }
    put(
      job,
      "budgetUsd",
      raw.budgetUsd === undefined ? undefined : num(raw, "budgetUsd", "", 0),
    );
    put(
      job,
      "spentUsd",
      raw.spentUsd === undefined ? undefined : num(raw, "spentUsd", "", 0),
    );
    put(job, "lockPath", optStr(raw, "lockPath", "", 1));
    return { ok: true, job: job as Job };
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, problem: error.message };
    throw error;
  }
}

const USAGE_FIELDS = [
  "promptTokens",
  "outputTokens",
  "imageTokens",
  "thoughtTokens",
] as const;

/**
 * `eventSchema.parse` without zod: the event with only its known fields,
 * or a thrown TypeError (an event the generator should never make).
 */
export function checkEvent(event: GeneratorEvent): GeneratorEvent {
  const e = event as unknown as Rec;
  try {
    switch (e.type) {
      case "started":
        return { type: "started", items: int(e, "items", "") };
      case "item-started":
        return {
          type: "item-started",
          itemId: str(e, "itemId", ""),
          attempt: int(e, "attempt", "", 1),
        };
      case "image-saved": {
        const fileName = str(e, "fileName", "");
        if (!IMAGE_FILE_NAME.test(fileName)) fail("fileName", "bad name");
        const mimeType = str(e, "mimeType", "");
        if (!MIME_TYPES.has(mimeType)) fail("mimeType", "unsupported");
        const sha256 = str(e, "sha256", "");
        if (!SHA256.test(sha256)) fail("sha256", "expected a sha256");
        const out: Rec = {
          type: "image-saved",
          itemId: str(e, "itemId", ""),
          fileName,
          mimeType,
          bytes: int(e, "bytes", "", 0),
          sha256,
        };
        if (e.width !== undefined) out.width = int(e, "width", "");
        if (e.height !== undefined) out.height = int(e, "height", "");
        return out as GeneratorEvent;
      }
      case "item-failed":
        if (!FAILURE_KINDS.has(e.kind as string)) fail("kind", "unknown");
        if (typeof e.retryable !== "boolean") fail("retryable", "boolean");
        return {
          type: "item-failed",
          itemId: str(e, "itemId", ""),
          kind: e.kind as never,
          message: str(e, "message", ""),
          retryable: e.retryable,
        };
      case "usage": {
        const out: Rec = { type: "usage", itemId: str(e, "itemId", "") };
        for (const f of USAGE_FIELDS) {
          out[f] = int(e, f, "", 0, LIMITS.tokensPerAnswer);
        }
        return out as GeneratorEvent;
      }
      case "rate-limited": {
        const out: Rec = {
          type: "rate-limited",
          retryAfterMs: int(e, "retryAfterMs", "", 0),
        };
        if (e.quotaLimit !== undefined) {
          out.quotaLimit = int(e, "quotaLimit", "", 1);
        }
        if (e.quotaWindowMs !== undefined) {
          out.quotaWindowMs = int(e, "quotaWindowMs", "", 1);
        }
        return out as GeneratorEvent;
      }
      case "token-request":
        return { type: "token-request" };
      case "batch-stopped":
        if (!FAILURE_KINDS.has(e.kind as string)) fail("kind", "unknown");
        return {
          type: "batch-stopped",
          kind: e.kind as never,
          message: str(e, "message", ""),
        };
      case "done":
        return {
          type: "done",
          succeeded: int(e, "succeeded", ""),
          failed: int(e, "failed", ""),
        };
      default:
        fail("type", "unknown event type");
    }
  } catch (error) {
    if (error instanceof Invalid) {
      throw new TypeError(`Invalid event: ${error.message}`);
    }
    throw error;
  }
}

/** `encodeEvent` without zod: one checked protocol line. */
export function encodeEventLean(event: GeneratorEvent): string {
  return JSON.stringify(checkEvent(event)) + "\n";
}

/** Whether a parsed stdin line after the job is a grant (`controlSchema`). */
export function isGrantLine(line: unknown): boolean {
  return typeof line === "object" && line !== null &&
    (line as { type?: unknown }).type === "grant";
}
