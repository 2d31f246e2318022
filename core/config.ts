import type { Quota } from "./quota.ts";

/**
 * The server's settings as the rest of the code sees them. `config.ts` at the
 * root is the only module that reads the environment to fill them.
 */

/** The server's settings, parsed once at start. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string;
  imagesDir: string;
  /** Reference images, one file per content (`<sha256>.<ext>`). */
  referencesDir: string;
  geminiBaseUrl: string;
  tls?: { certFile: string; keyFile: string };
  trustProxy: boolean;
  concurrency: number;
  requestTimeoutMs: number;
  maxAttempts: number;
  /** New batches from the form estimated above this many USD wait for a confirmation. */
  confirmAboveUsd: number;
  /** `Host` names answered (lower case, no port); undefined: any. */
  allowedHosts?: readonly string[];
  /** What one workspace may hold (BATCHGEN_WORKSPACE_MAX_*). */
  quota: Quota;
  /** Generators this instance runs at once (BATCHGEN_MAX_RUNNING). */
  maxRunning: number;
  /** When set, every request must carry these HTTP Basic credentials. */
  basicAuth?: { username: string; password: string };
  /** What the generator child needs from this environment to start Deno (K4: nothing else). */
  childEnv: Record<string, string>;
  /** For a libSQL server (`BATCHGEN_DATABASE_AUTH_TOKEN`). */
  databaseAuthToken?: string;
  /** One line per event: readable text, or one JSON object (with a request id). */
  logFormat: "text" | "json";
  /** /readyz fails below this much free disk in the data dir. */
  minFreeDiskBytes: number;
  /** Where images live. */
  storage: StorageConfig;
  /** How long a run's lease lasts without a heartbeat. */
  leaseMs: number;
  /** This instance's name in run leases. */
  instanceId: string;
}

/** The data dir, or an S3-compatible bucket (BATCHGEN_STORAGE_URL). */
export type StorageConfig =
  | { kind: "local" }
  | {
    kind: "s3";
    bucket: string;
    prefix: string;
    endpoint?: string;
    region: string;
    forcePathStyle: boolean;
    accessKeyId: string;
    secretAccessKey: string;
  };
