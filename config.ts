/**
 * The only module that reads the server's environment. `loadConfig()` parses
 * every variable of the public configuration contract once and fails with one
 * readable message that lists every bad value.
 */
import { z } from "zod";
import { join, resolve } from "node:path";
import { DEFAULTS, LIMITS } from "./core/limits.ts";
import {
  geminiBaseUrlProblem,
  GOOGLE_API_BASE_URL,
  isLoopbackHost,
} from "./core/loopback.ts";
import type { Config } from "./core/config.ts";

export { GOOGLE_API_BASE_URL };

const onOff = z
  .enum(["1", "0", "true", "false", "on", "off", "yes", "no", ""])
  .transform((v) => ["1", "true", "on", "yes"].includes(v));

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  HOST: z.string().min(1).default("127.0.0.1"),
  BATCHGEN_DATA_DIR: z.string().min(1).default("./data"),
  BATCHGEN_DATABASE_URL: z.string().regex(
    /^(file:|libsql:|https?:|wss?:|:memory:$)/,
    "must be a libSQL URL (file:, libsql://, http(s)://) or :memory:",
  ).optional(),
  // The key travels to this URL in a header: plain http only to this machine
  // (tests, a local proxy), never across a network (K7).
  BATCHGEN_GEMINI_BASE_URL: z.string().superRefine((url, ctx) => {
    const problem = geminiBaseUrlProblem(url);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }).default(GOOGLE_API_BASE_URL),
  BATCHGEN_TLS_CERT_FILE: z.string().min(1).optional(),
  BATCHGEN_TLS_KEY_FILE: z.string().min(1).optional(),
  BATCHGEN_TRUST_PROXY: onOff.default(false),
  BATCHGEN_CONCURRENCY: z.coerce.number().int().min(1).max(LIMITS.concurrency)
    .default(DEFAULTS.concurrency),
  BATCHGEN_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(
    LIMITS.minRequestTimeoutMs,
  ).max(LIMITS.requestTimeoutMs).default(DEFAULTS.requestTimeoutMs),
  BATCHGEN_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(LIMITS.maxAttempts)
    .default(DEFAULTS.maxAttempts),
  // The message never repeats the value: it holds a password.
  BATCHGEN_BASIC_AUTH: z.string().regex(
    // deno-lint-ignore no-control-regex
    /^[^:\x00-\x1f\x7f]+:[^\x00-\x1f\x7f]{8,}$/,
    "must be user:password — a user name without ':' and a password of at least 8 characters, no control characters",
  ).optional(),
  BATCHGEN_CONFIRM_ABOVE_USD: z.coerce.number().min(0).max(LIMITS.budgetUsd)
    .default(5),
  BATCHGEN_ALLOWED_HOSTS: z.string().regex(
    /^\s*(\*|[a-z0-9.\-\[\]:]+)(\s*,\s*[a-z0-9.\-\[\]:]+)*\s*$/i,
    "must be a comma-separated list of host names (no ports), or *",
  ).optional(),
  BATCHGEN_WORKSPACE_MAX_BATCHES: z.coerce.number().int().min(1).default(
    DEFAULTS.workspaceMaxBatches,
  ),
  BATCHGEN_WORKSPACE_MAX_ITEMS: z.coerce.number().int().min(1).default(
    DEFAULTS.workspaceMaxItems,
  ),
  BATCHGEN_WORKSPACE_MAX_BYTES: z.coerce.number().int().min(1).default(
    DEFAULTS.workspaceMaxBytes,
  ),
  BATCHGEN_MAX_RUNNING: z.coerce.number().int().min(1).max(
    LIMITS.maxRunning,
  ).optional(),
  BATCHGEN_DATABASE_AUTH_TOKEN: z.string().min(1).optional(),
  BATCHGEN_LOG_FORMAT: z.enum(["text", "json"], {
    error: 'must be "text" or "json"',
  }).default("text"),
  /** /readyz fails below this much free disk in the data dir. */
  BATCHGEN_MIN_FREE_DISK_MB: z.coerce.number().int().min(0).default(512),
  BATCHGEN_STORAGE_URL: z.string().regex(
    /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\s]*)?$/,
    "must be s3://bucket or s3://bucket/prefix",
  ).optional(),
  BATCHGEN_S3_ENDPOINT: z.url({ error: "must be a URL" }).optional(),
  BATCHGEN_S3_REGION: z.string().min(1).default("us-east-1"),
  BATCHGEN_S3_FORCE_PATH_STYLE: onOff.default(false),
  AWS_ACCESS_KEY_ID: z.string().min(1).optional(),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** Seconds a run's lease lasts without a heartbeat (several instances). */
  BATCHGEN_LEASE_SECONDS: z.coerce.number().int().min(5).max(3600).default(
    60,
  ),
  /** This instance's name in run leases; default: host name and process id. */
  BATCHGEN_INSTANCE_ID: z.string().regex(/^[\w.:-]{1,100}$/).optional(),
});

export type { Config };

/** Thrown when the environment holds bad values; the message lists each one. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses the environment into a frozen `Config`. */
export function loadConfig(
  env: Record<string, string | undefined> = Deno.env.toObject(),
  totalMemoryBytes: number = systemMemoryBytes(),
): Config {
  const blanksRemoved = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ""),
  );
  const parsed = envSchema.safeParse(blanksRemoved);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) =>
      `  ${issue.path.join(".")}: ${issue.message}`
    );
    throw new ConfigError(
      `Cannot start BatchGen: bad configuration\n${lines.join("\n")}`,
    );
  }
  const e = parsed.data;
  const certFile = e.BATCHGEN_TLS_CERT_FILE;
  const keyFile = e.BATCHGEN_TLS_KEY_FILE;
  if (Boolean(certFile) !== Boolean(keyFile)) {
    throw new ConfigError(
      "Cannot start BatchGen: bad configuration\n  BATCHGEN_TLS_CERT_FILE and BATCHGEN_TLS_KEY_FILE must be set together",
    );
  }
  const dataDir = resolve(e.BATCHGEN_DATA_DIR);
  const basic = e.BATCHGEN_BASIC_AUTH?.match(/^([^:]+):(.+)$/);
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    dataDir,
    databaseUrl: e.BATCHGEN_DATABASE_URL ??
      `file:${join(dataDir, "batchgen.db")}`,
    imagesDir: join(dataDir, "images"),
    referencesDir: join(dataDir, "references"),
    geminiBaseUrl: e.BATCHGEN_GEMINI_BASE_URL.replace(/\/+$/, ""),
    tls: certFile && keyFile ? { certFile, keyFile } : undefined,
    trustProxy: e.BATCHGEN_TRUST_PROXY,
    concurrency: e.BATCHGEN_CONCURRENCY,
    requestTimeoutMs: e.BATCHGEN_REQUEST_TIMEOUT_MS,
    maxAttempts: e.BATCHGEN_MAX_ATTEMPTS,
    confirmAboveUsd: e.BATCHGEN_CONFIRM_ABOVE_USD,
    maxRunning: e.BATCHGEN_MAX_RUNNING ?? maxRunningFor(totalMemoryBytes),
    allowedHosts: allowedHosts(e.BATCHGEN_ALLOWED_HOSTS, e.HOST),
    quota: {
      batches: e.BATCHGEN_WORKSPACE_MAX_BATCHES,
      items: e.BATCHGEN_WORKSPACE_MAX_ITEMS,
      bytes: e.BATCHGEN_WORKSPACE_MAX_BYTES,
    },
    basicAuth: basic ? { username: basic[1]!, password: basic[2]! } : undefined,
    databaseAuthToken: e.BATCHGEN_DATABASE_AUTH_TOKEN,
    logFormat: e.BATCHGEN_LOG_FORMAT,
    minFreeDiskBytes: e.BATCHGEN_MIN_FREE_DISK_MB * 1024 * 1024,
    storage: storageConfig(e),
    leaseMs: e.BATCHGEN_LEASE_SECONDS * 1000,
    instanceId: e.BATCHGEN_INSTANCE_ID ?? defaultInstanceId(),
    childEnv: pick(env, ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]),
  });
}

/** Where images live: the data dir, or an S3-compatible bucket. */
function storageConfig(e: z.infer<typeof envSchema>): Config["storage"] {
  const url = e.BATCHGEN_STORAGE_URL;
  if (!url) return { kind: "local" };
  if (!e.AWS_ACCESS_KEY_ID || !e.AWS_SECRET_ACCESS_KEY) {
    throw new ConfigError(
      "Cannot start BatchGen: bad configuration\n  BATCHGEN_STORAGE_URL needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    );
  }
  const [, bucket = "", prefix = ""] = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url) ??
    [];
  return {
    kind: "s3",
    bucket,
    prefix: prefix.replace(/\/+$/, ""),
    endpoint: e.BATCHGEN_S3_ENDPOINT,
    region: e.BATCHGEN_S3_REGION,
    forcePathStyle: e.BATCHGEN_S3_FORCE_PATH_STYLE,
    accessKeyId: e.AWS_ACCESS_KEY_ID,
    secretAccessKey: e.AWS_SECRET_ACCESS_KEY,
  };
}

function defaultInstanceId(): string {
  let host = "host";
  try {
    host = Deno.hostname();
  } catch {
    // No --allow-sys: the process id still tells instances on a host apart.
  }
  return `${host}-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
}

function pick(env: Record<string, string | undefined>, names: string[]) {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = env[name];
    if (value) out[name] = value;
  }
  return out;
}

const MiB = 1024 * 1024;
/** Kept for the server itself, its database cache and the system. */
const RESERVED_BYTES = 1024 * MiB;
/**
 * One run's share: the lean generator's peak (93–104 MB with 2 MB images at
 * 8 parallel; 52–60 MB resident at start, 65–69 MB peak with small images
 * in bench/history_load.ts) plus the ~1.4 MB the run holds in the server,
 * rounded up.
 */
const RUN_BYTES = 112 * MiB;

/**
 * Generators that fit this machine: one per 112 MiB after 1 GiB kept back,
 * from 2 up to the limit (23.5 GiB: 206; 8 GiB: 64; 2 GiB: 9). A workload of
 * 4K images at high parallelism peaks higher per generator: set
 * BATCHGEN_MAX_RUNNING lower for it.
 */
export function maxRunningFor(totalMemoryBytes: number): number {
  const fit = Math.floor((totalMemoryBytes - RESERVED_BYTES) / RUN_BYTES);
  return Math.min(LIMITS.maxRunning, Math.max(2, fit));
}

function systemMemoryBytes(): number {
  try {
    return Deno.systemMemoryInfo().total;
  } catch {
    return 0; // No --allow-sys: the smallest default.
  }
}

/**
 * The `Host` names this instance answers to (DNS rebinding): the list given,
 * or, bound to loopback, the loopback names; `undefined` answers to any.
 */
function allowedHosts(
  list: string | undefined,
  host: string,
): readonly string[] | undefined {
  if (list?.trim() === "*") return undefined;
  if (list) {
    return list.split(",").map((h) => h.trim().toLowerCase()).filter(Boolean);
  }
  const bare = host.replace(/^\[|\]$/g, "");
  return bare === "localhost" || isLoopbackHost(bare)
    ? ["localhost", "127.0.0.1", "[::1]"]
    : undefined;
}
