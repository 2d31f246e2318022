/** Running the CLI's Batch mode against the fake, for the cli_batch tests. */
import { join } from "node:path";
import {
  type FakeGeminiOptions,
  startFakeGemini,
} from "../tests/fake_gemini.ts";
import type { costFromUsage } from "../core/cost.ts";
import { childEnv, GOOD_KEY, listDir, runChild } from "./child_test_helpers.ts";

export const NB = "gemini-nano-banana-2.1";
export const PRO = "gemini-3-pro-image";
export const LITE = "gemini-3.1-flash-lite-image";
export const STATE = "batchgen-jobs.json";

export interface ManifestItem {
  status: string;
  model: string;
  file: string | null;
  attempts: number;
  errorKind: string | null;
  errorMessage: string | null;
  usage: Parameters<typeof costFromUsage>[1] | null;
  estimatedCostUsd: number | null;
}

/** A fake, a temp folder with a prompts file, and the CLI run against them. */
export async function setup(
  lines: string[],
  batch: FakeGeminiOptions["batch"],
  options: FakeGeminiOptions = {},
) {
  const fake = startFakeGemini({ ...options, batch });
  const dir = await Deno.makeTempDir();
  const prompts = join(dir, "prompts.txt");
  await Deno.writeTextFile(prompts, lines.join("\n") + "\n");
  const out = join(dir, "out");
  const outputs: string[] = [];
  const cli = async (args: string[]) => {
    const result = await runChild("", childEnv(GOOD_KEY, fake.url), args);
    outputs.push(result.stdout, result.stderr);
    return result;
  };
  return {
    fake,
    dir,
    out,
    outputs,
    cli,
    submit: (...extra: string[]) =>
      cli(["--prompts", prompts, "--out", out, "--batch-mode", ...extra]),
    sync: () => cli(["--sync", out]),
    read: async (name: string) => await Deno.readTextFile(join(out, name)),
    manifest: async () =>
      JSON.parse(await Deno.readTextFile(join(out, "manifest.json"))),
    images: async () =>
      (await listDir(out)).filter((n) => /^\d{4}-\d+\.\w+$/.test(n)),
    async [Symbol.asyncDispose]() {
      await fake.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

export const savedLines = (stderr: string) =>
  stderr.split("\n").filter((l) => /\] saved \d{4}-\d+\./.test(l)).length;
