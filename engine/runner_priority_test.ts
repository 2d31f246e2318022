import assert from "node:assert/strict";
import { getPriority } from "node:os";
import { GENERATOR_NICENESS, spawnGenerator } from "./runner.ts";

Deno.test("spawnGenerator() runs the generator at a lower CPU priority than the server", async () => {
  const outputDir = await Deno.makeTempDir({ prefix: "batchgen-nice-" });
  const run = spawnGenerator({
    batchId: "nice",
    model: "gemini-nano-banana-2.1",
    aspectRatio: "1:1",
    concurrency: 1,
    outputDir,
    timeoutMs: 1_000,
    maxAttempts: 1,
    items: [],
  }, {
    apiKey: "kZ3v9QpLr7TmWx2NbY8cHd4FsJ6gUe1A",
    apiBaseUrl: "http://127.0.0.1:9",
    baseEnv: { PATH: Deno.env.get("PATH") ?? "" },
  });
  try {
    assert.equal(getPriority(run.pid), GENERATOR_NICENESS);
    assert.ok(GENERATOR_NICENESS > getPriority(), "lower than this process");
  } finally {
    for await (const _ of run.events) {
      // drain
    }
    await run.exited;
    await Deno.remove(outputDir, { recursive: true });
  }
});
