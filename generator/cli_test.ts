/** `deno task generate` (the CLI mode of generator/main.ts) end to end. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startFakeGemini } from "../tests/fake_gemini.ts";
import {
  assertNoKey,
  childEnv,
  GOOD_KEY,
  listDir,
  runChild,
} from "./child_test_helpers.ts";

Deno.test("[cli] writes images and a key-free manifest", async () => {
  await using fake = startFakeGemini();
  const dir = await Deno.makeTempDir();
  try {
    const prompts = join(dir, "prompts.txt");
    await Deno.writeTextFile(
      prompts,
      "a lighthouse\n\na fox [block:IMAGE_SAFETY]\n",
    );
    const out = join(dir, "out");
    const args = [
      "--prompts",
      prompts,
      "--out",
      out,
      "--model",
      "gemini-3.1-flash-lite-image",
      "--images-per-prompt",
      "2",
      "--concurrency",
      "2",
    ];
    const result = await runChild("", childEnv(GOOD_KEY, fake.url), args);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /\[\d\/4\] saved 0001-1\.\w+/);
    assert.match(result.stderr, /0002-1 failed \(blocked\)/);
    const text = await Deno.readTextFile(join(out, "manifest.json"));
    const manifest = JSON.parse(text);
    assert.equal(manifest.generator, "BatchGen CLI");
    assert.equal(manifest.model, "gemini-3.1-flash-lite-image");
    assert.deepEqual(manifest.settings, {
      aspectRatio: "1:1",
      imageSize: "1K",
      imagesPerPrompt: 2,
      concurrency: 2,
    });
    assert.deepEqual(manifest.counts, { succeeded: 2, failed: 2 });
    assert.deepEqual(
      manifest.items.map((i: { status: string }) => i.status),
      ["succeeded", "succeeded", "blocked", "blocked"],
    );
    assert.equal(
      manifest.items[0].file,
      (await listDir(out)).find((n) => n.startsWith("0001-1")),
    );
    assert.match(manifest.items[0].sha256, /^[0-9a-f]{64}$/);
    assertNoKey(GOOD_KEY, text, result.stdout, result.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[cli] rejects bad usage with exit code 2", async () => {
  const env = childEnv(GOOD_KEY, "http://127.0.0.1:9");
  const badModel = await runChild("", env, [
    "--prompts",
    "p.txt",
    "--out",
    "o",
    "--model",
    "imagen-4",
  ]);
  assert.equal(badModel.code, 2);
  assert.match(badModel.stderr, /Unknown model "imagen-4"/);
  const badSize = await runChild("", env, [
    "--prompts",
    "p.txt",
    "--out",
    "o",
    "--model",
    "gemini-3.1-flash-lite-image",
    "--size",
    "4K",
  ]);
  assert.equal(badSize.code, 2);
  assert.match(badSize.stderr, /Size "4K" is not offered/);
  const help = await runChild("", env, ["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--prompts FILE/);
});
