/**
 * [parity] The CLI accepts and refuses exactly what `POST /api/batches`
 * accepts and refuses, with the same messages: both go through
 * core/batch_input.ts. Each case is sent to the real API and given to the
 * CLI as its command line.
 */
import assert from "node:assert/strict";
import { parseCliArgs } from "../generator/cli_args.ts";
import { planCliBatch } from "../generator/cli.ts";
import { startTestApp } from "./_helpers.ts";

const NB = "gemini-nano-banana-2.1";

interface Case {
  name: string;
  prompts: string[];
  /** CLI flag → value; the API gets the same value under the API's name. */
  flags: Record<string, string>;
  /** Options with a shape of their own: as the CLI says them, as the API does. */
  cli?: string[];
  api?: Record<string, unknown>;
}

const PRO = "gemini-3-pro-image";

const API_NAME: Record<string, string> = {
  "--model": "model",
  "--aspect-ratio": "aspectRatio",
  "--size": "imageSize",
  "--images-per-prompt": "imagesPerPrompt",
  "--concurrency": "concurrency",
  "--title": "title",
  "--budget-usd": "budgetUsd",
};

const CASES: Case[] = [
  { name: "plain", prompts: ["a fox"], flags: { "--model": NB } },
  {
    name: "every option",
    prompts: ["a fox", "a whale"],
    flags: {
      "--model": "gemini-3-pro-image",
      "--aspect-ratio": "16:9",
      "--size": "4K",
      "--images-per-prompt": "3",
      "--concurrency": "8",
      "--title": "Sea",
      "--budget-usd": "2.5",
    },
  },
  {
    name: "models/ prefix",
    prompts: ["a fox"],
    flags: { "--model": `models/${NB}` },
  },
  { name: "unknown model", prompts: ["a"], flags: { "--model": "imagen-4" } },
  {
    name: "ratio the model lacks",
    prompts: ["a"],
    flags: { "--model": "gemini-3-pro-image", "--aspect-ratio": "8:1" },
  },
  {
    name: "size the model lacks",
    prompts: ["a"],
    flags: { "--model": "gemini-3.1-flash-lite-image", "--size": "4K" },
  },
  {
    name: "size in the wrong case",
    prompts: ["a"],
    flags: { "--model": NB, "--size": "1k" },
  },
  {
    name: "images per prompt not whole",
    prompts: ["a"],
    flags: { "--model": NB, "--images-per-prompt": "2.5" },
  },
  {
    name: "too many images per prompt",
    prompts: ["a"],
    flags: { "--model": NB, "--images-per-prompt": "11" },
  },
  {
    name: "concurrency 0",
    prompts: ["a"],
    flags: { "--model": NB, "--concurrency": "0" },
  },
  {
    name: "negative budget",
    prompts: ["a"],
    flags: { "--model": NB, "--budget-usd": "-1" },
  },
  {
    name: "budget not a number",
    prompts: ["a"],
    flags: { "--model": NB, "--budget-usd": "lots" },
  },
  { name: "no prompts", prompts: [], flags: { "--model": NB } },
  {
    name: "prompt too long",
    prompts: ["x".repeat(4001)],
    flags: { "--model": NB },
  },
  {
    name: "too many prompts",
    prompts: Array.from({ length: 1001 }, (_, i) => `p${i}`),
    flags: { "--model": NB },
  },
  {
    name: "too many images",
    prompts: Array.from({ length: 600 }, (_, i) => `p${i}`),
    flags: { "--model": NB, "--images-per-prompt": "9" },
  },
  {
    name: "a key pasted as a prompt",
    prompts: ["a fox", "AIzaSyCanaryKey0123456789abcdefghijklmn"],
    flags: { "--model": NB },
  },
  {
    name: "a key as the title",
    prompts: ["a fox"],
    flags: {
      "--model": NB,
      "--title": "AQ.Ab8RN6LkTestKeyCanary0123456789abcdefghij",
    },
  },
  {
    name: "title too long",
    prompts: ["a fox"],
    flags: { "--model": NB, "--title": "t".repeat(201) },
  },
  {
    name: "templates",
    prompts: ["a {red|blue} fox", "an owl"],
    flags: { "--model": NB },
    cli: ["--templates"],
    api: { expandTemplates: true },
  },
  {
    name: "unclosed template",
    prompts: ["a {red fox"],
    flags: { "--model": NB },
    cli: ["--templates"],
    api: { expandTemplates: true },
  },
  {
    name: "sample",
    prompts: ["{a|b|c|d} {e|f|g}"],
    flags: { "--model": NB },
    cli: ["--sample", "3", "--seed", "9"],
    api: { sample: { count: "3", seed: "9" } },
  },
  {
    name: "matrix",
    prompts: ["a fox"],
    flags: { "--model": NB },
    cli: [
      "--matrix-model",
      `${NB},${PRO}`,
      "--matrix-aspect-ratio",
      "1:1,16:9",
    ],
    api: { matrix: { model: [NB, PRO], aspectRatio: ["1:1", "16:9"] } },
  },
  {
    name: "matrix ratio one model lacks",
    prompts: ["a fox"],
    flags: { "--model": NB },
    cli: ["--matrix-model", `${NB},${PRO}`, "--matrix-aspect-ratio", "8:1"],
    api: { matrix: { model: [NB, PRO], aspectRatio: ["8:1"] } },
  },
];

Deno.test("[parity] the CLI accepts and refuses what the JSON API does, with the same messages", async (t) => {
  await using app = await startTestApp();
  for (const c of CASES) {
    await t.step(c.name, async () => {
      const body: Record<string, unknown> = {
        prompts: c.prompts,
        ...c.api,
      };
      for (const [flag, value] of Object.entries(c.flags)) {
        body[API_NAME[flag]!] = value;
      }
      // The CLI's own default applies to the API too: it is not an input.
      body.concurrency ??= "4";
      const response = await app.request("/api/batches", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const api = await response.json();

      const args = parseCliArgs([
        "--prompts",
        "p.txt",
        "--out",
        "out",
        // `--flag=value`, so a value like "-1" is not read as an option.
        ...Object.entries(c.flags).map(([flag, value]) => `${flag}=${value}`),
        ...(c.cli ?? []),
      ]);
      assert.equal(args.kind, "run");
      if (args.kind !== "run") return;
      const cli = planCliBatch(args.options.batch, c.prompts, []);

      if (response.status === 201) {
        assert.ok(cli.ok, `the CLI refused what the API accepted: ${c.name}`);
        assert.equal(cli.value.model, api.model);
        assert.equal(cli.value.settings.imageSize, api.imageSize);
        assert.equal(cli.value.settings.aspectRatio, api.aspectRatio);
        assert.equal(cli.value.estimate.totalUsd, api.estimatedCostUsd);
        assert.equal(cli.value.estimate.images, api.counts.items);
      } else {
        assert.equal(response.status, 422);
        assert.ok(!cli.ok, `the CLI accepted what the API refused: ${c.name}`);
        assert.equal(cli.problem.code, api.error.code);
        assert.equal(cli.problem.message, api.error.message);
        assert.deepEqual(cli.problem.fields, api.error.fields);
      }
    });
  }
});
