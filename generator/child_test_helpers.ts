/** Spawning the real generator process for the child and CLI tests. */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  decodeEvent,
  type GeneratorEvent,
  type Job,
} from "../core/protocol.ts";

/** The project root, the cwd of every spawned generator. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** A key the fake accepts. */
export const GOOD_KEY = "AQ.Ab8RN6Lq-main-test-key-7f3c9e2d41b6a5";
/** A key the fake rejects as invalid, echoing it in DebugInfo. */
export const BAD_KEY = "bad-key-zq8Wm3Xr5Tn1Vb7Kc9Lp2Hs4";

/** What a finished generator process left behind. */
export interface ChildResult {
  code: number;
  stdout: string;
  stderr: string;
  events: GeneratorEvent[];
}

/** The whole environment of the child: only what Deno needs, plus the key. */
export function childEnv(
  key: string | undefined,
  baseUrl: string,
): Record<string, string> {
  const env: Record<string, string> = {
    BATCHGEN_GEMINI_BASE_URL: baseUrl,
    PATH: Deno.env.get("PATH") ?? "",
    HOME: Deno.env.get("HOME") ?? "",
    NO_COLOR: "1",
  };
  const denoDir = Deno.env.get("DENO_DIR");
  if (denoDir) env.DENO_DIR = denoDir;
  if (key !== undefined) env.GEMINI_API_KEY = key;
  return env;
}

/** Spawns generator/main.ts with the narrow permissions of the task. */
export function spawn(args: string[], env: Record<string, string>) {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "generator/main.ts",
      ...args,
    ],
    cwd: ROOT,
    clearEnv: true,
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Runs the generator to its end with `input` on stdin. */
export async function runChild(
  input: string,
  env: Record<string, string>,
  args: string[] = [],
): Promise<ChildResult> {
  const child = spawn(args, env);
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const output = await child.output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  // Only the child mode speaks the protocol on stdout.
  const events = args.length > 0
    ? []
    : stdout.split("\n").filter((l) => l.trim()).map(decodeEvent);
  return { code: output.code, stdout, stderr, events };
}

/** A job with one item per prompt. */
export function makeJob(
  outputDir: string,
  prompts: string[],
  extra: Partial<Job> = {},
): Job {
  return {
    batchId: "batch-1",
    model: "gemini-3.1-flash-lite-image",
    aspectRatio: "1:1",
    imageSize: "1K",
    concurrency: 3,
    outputDir,
    timeoutMs: 20_000,
    maxAttempts: 3,
    items: prompts.map((prompt, position) => ({
      itemId: `item-${position}`,
      position,
      imageIndex: 0,
      prompt,
    })),
    ...extra,
  };
}

/** Asserts that no 8-character piece of `key` is in any text. */
export function assertNoKey(key: string, ...texts: string[]) {
  for (const text of texts) {
    for (let i = 0; i + 8 <= key.length; i++) {
      assert.equal(
        text.includes(key.slice(i, i + 8)),
        false,
        "key fragment in output",
      );
    }
  }
}

/** Sorted names in `dir`. */
export async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}
