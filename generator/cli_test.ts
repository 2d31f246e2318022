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
    // The server's manifest format, written by the CLI.
    assert.equal(manifest.generator, "BatchGen CLI");
    assert.equal(manifest.batch.model, "gemini-3.1-flash-lite-image");
    assert.deepEqual(manifest.batch.settings, {
      aspectRatio: "1:1",
      imageSize: "1K",
      imagesPerPrompt: 2,
      concurrency: 2,
    });
    assert.equal(manifest.batch.status, "partial");
    assert.deepEqual(manifest.batch.counts, {
      items: 4,
      succeeded: 2,
      failed: 2,
      blocked: 2,
    });
    assert.match(manifest.batch.cost.label, /not a BatchGen charge/);
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

Deno.test("[cli] rejects bad usage and bad input with exit code 2 and the JSON API's messages", async () => {
  await using fake = startFakeGemini();
  const dir = await Deno.makeTempDir();
  try {
    const prompts = join(dir, "prompts.txt");
    await Deno.writeTextFile(prompts, "a lighthouse\n");
    const env = childEnv(GOOD_KEY, fake.url);
    const base = ["--prompts", prompts, "--out", join(dir, "out")];
    const badModel = await runChild("", env, [...base, "--model", "imagen-4"]);
    assert.equal(badModel.code, 2);
    assert.match(badModel.stderr, /Unknown model\. Choose one of: /);
    const badSize = await runChild("", env, [
      ...base,
      "--model",
      "gemini-3.1-flash-lite-image",
      "--size",
      "4K",
    ]);
    assert.equal(badSize.code, 2);
    assert.match(
      badSize.stderr,
      /Nano Banana 2 Lite supports the image sizes 1K\./,
    );
    const missing = await runChild("", env, [
      "--prompts",
      join(dir, "nope.txt"),
      "--out",
      join(dir, "out"),
    ]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /Cannot read prompts file .*nope\.txt/);
    assert.equal(fake.requests.length, 0, "nothing reached Google");
    await assert.rejects(Deno.stat(join(dir, "out")), Deno.errors.NotFound);
    const help = await runChild("", env, ["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--prompts FILE/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[cli] a prompts file holding an API key exits 2 before any request, and nothing is written", async () => {
  await using fake = startFakeGemini();
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "out");
    // A key pasted among the prompts: of Google's shape, and the very key
    // the CLI runs with (whatever its shape).
    for (
      const [name, key, text] of [
        [
          "shaped.txt",
          GOOD_KEY,
          "a fox\nAIzaSyCanaryKey0123456789abcdefghijklmn\n",
        ],
        [
          "own.csv",
          "zq8Wm3Xr5Tn1Vb7Kc9Lp2Hs4Qd",
          "prompt\na fox\nzq8Wm3Xr5Tn1Vb7Kc9Lp2Hs4Qd\n",
        ],
      ] as const
    ) {
      const file = join(dir, name);
      await Deno.writeTextFile(file, text);
      const result = await runChild("", childEnv(key, fake.url), [
        "--prompts",
        file,
        "--out",
        out,
      ]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(
        result.stderr,
        /This looks like an API key\. A key goes only where BatchGen asks/,
      );
      assertNoKey(key, result.stdout, result.stderr);
    }
    assert.equal(fake.requests.length, 0, "nothing reached Google");
    await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
