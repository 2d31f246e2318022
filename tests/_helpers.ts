/** Shared test helpers: a real app on a temp data dir against the fake Gemini. */
import { createApp } from "../app.ts";
import type { AppDeps } from "../http/env.ts";
import { type Config, loadConfig } from "../config.ts";
import { openDb } from "../db/client.ts";
import { spawnGenerator } from "../engine/runner.ts";
import { ActiveRuns } from "../engine/active_runs.ts";
import { createQuotaPacers } from "../engine/quota_pacer.ts";
import { SpawnGate } from "../engine/spawn_gate.ts";
import { checkKey } from "../engine/key_check.ts";
import { createLogger } from "../lib/log.ts";
import { storeNewBatch } from "../engine/batches.ts";
import { type BatchPlan, plainRows } from "../core/batch_plan.ts";
import { estimateRows } from "../core/cost.ts";
import type { Batch } from "../core/records.ts";
import type { Db } from "../db/client.ts";
import {
  type FakeGemini,
  type FakeGeminiOptions,
  startFakeGemini,
} from "./fake_gemini.ts";

/** A recognisable fake key of the new format (53 chars). */
export const TEST_KEY = "AQ.Ab8RN6LkTestKeyCanary0123456789abcdefghijKLMNOPqrs";
/** A recognisable fake key of the old format (39 chars). */
export const TEST_KEY_OLD = "AIzaSyCanaryKey0123456789abcdefghijklmn";

export const ORIGIN = "http://127.0.0.1:8000";

export interface TestApp {
  app: ReturnType<typeof createApp>;
  deps: AppDeps;
  config: Config;
  fake: FakeGemini;
  dataDir: string;
  logs: string[];
  stderrLines: string[];
  /** Sends a request as a same-origin browser on loopback would. */
  request(
    path: string,
    init?: RequestInit & { remote?: string },
  ): Promise<Response>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts the fake Gemini and an app on a fresh temp data dir (file DB). */
export async function startTestApp(
  { fake: fakeOptions = {}, env = {}, dataDir: givenDataDir }: {
    fake?: FakeGeminiOptions;
    env?: Record<string, string>;
    /**
     * Reuse this data dir (e.g. a second app after the first was disposed);
     * the caller owns it and removes it. Default: a fresh temp dir, removed
     * on dispose.
     */
    dataDir?: string;
  } = {},
): Promise<TestApp> {
  const fake = startFakeGemini(fakeOptions);
  const dataDir = givenDataDir ??
    await Deno.makeTempDir({ prefix: "batchgen-test-" });
  const config = loadConfig({
    BATCHGEN_DATA_DIR: dataDir,
    BATCHGEN_GEMINI_BASE_URL: fake.url,
    BATCHGEN_REQUEST_TIMEOUT_MS: "10000",
    PATH: Deno.env.get("PATH"),
    HOME: Deno.env.get("HOME"),
    DENO_DIR: Deno.env.get("DENO_DIR"),
    ...env,
  });
  const { db, close } = await openDb(config.databaseUrl);
  const logs: string[] = [];
  const stderrLines: string[] = [];
  const log = createLogger((line) => logs.push(line));
  const deps: AppDeps = {
    db,
    config,
    log,
    activeRuns: new ActiveRuns({ maxTotal: config.maxRunning }),
    pacers: createQuotaPacers(),
    spawnGate: new SpawnGate(),
    spawn: (job, options) =>
      spawnGenerator(job, {
        ...options,
        onStderr: (line) => {
          stderrLines.push(line);
          options.onStderr?.(line);
        },
      }),
    checkKey,
  };
  const app = createApp(deps);
  return {
    app,
    deps,
    config,
    fake,
    dataDir,
    logs,
    stderrLines,
    request(path, init = {}) {
      const { remote = "127.0.0.1", ...rest } = init;
      const headers = new Headers(rest.headers);
      if (!headers.has("origin")) headers.set("origin", ORIGIN);
      return Promise.resolve(
        app.request(new URL(path, ORIGIN).href, { ...rest, headers }, {
          remoteAddr: { hostname: remote },
        }),
      );
    },
    async [Symbol.asyncDispose]() {
      deps.activeRuns.abortAll();
      close();
      await fake.close();
      if (givenDataDir === undefined) {
        await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      }
    },
  };
}

/** Form body helper. */
export function form(fields: Record<string, string>): URLSearchParams {
  return new URLSearchParams(fields);
}

/** Reads an NDJSON response into objects. */
export async function readNdjson(
  response: Response,
): Promise<Record<string, unknown>[]> {
  const text = await response.text();
  return text.split("\n").filter(Boolean).map((line) => JSON.parse(line));
}

/** Creates a batch through the JSON API and returns its id. */
export async function createBatchViaApi(
  t: TestApp,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{ id: string; cookie: string }> {
  const response = await t.request("/api/batches", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  if (response.status !== 201) {
    throw new Error(
      `create failed: ${response.status} ${await response.text()}`,
    );
  }
  const cookie = response.headers.get("set-cookie")?.split(";")[0] ??
    headers.cookie ?? "";
  const json = await response.json();
  return { id: json.id, cookie };
}

/**
 * A plan of plain prompts that skips validation, for batches the API would
 * refuse (a model without a price, say).
 */
export function simplePlan(input: {
  title: string;
  prompts: string[];
  model: string;
  aspectRatio: string;
  imageSize: string;
  imagesPerPrompt: number;
  concurrency: number;
  budgetUsd?: number;
}): BatchPlan {
  const rows = plainRows(input.prompts, input);
  return {
    title: input.title,
    model: input.model,
    settings: {
      aspectRatio: input.aspectRatio,
      imageSize: input.imageSize,
      imagesPerPrompt: input.imagesPerPrompt,
      concurrency: input.concurrency,
    },
    rows,
    references: [],
    budgetUsd: input.budgetUsd ?? null,
    mode: "standard",
    estimate: estimateRows(rows.map((r) => ({
      model: r.model,
      imageSize: r.imageSize,
      promptChars: r.prompt.length,
      images: r.images,
      inputImages: 0,
    }))),
  };
}

/** Stores a planned batch directly (no quota), for batches the API refuses. */
export async function storeBatch(
  db: Db,
  workspaceId: string,
  plan: BatchPlan,
): Promise<Batch> {
  const stored = await storeNewBatch(db, workspaceId, plan);
  if (!stored.ok) throw new Error(stored.problem.message);
  return stored.value;
}
