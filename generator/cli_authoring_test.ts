/**
 * [cli] The CLI takes what the page and the API take (issue #11): a table of
 * rows with their own settings, reference images (one upload per run for a
 * shared one), templates and a matrix, and `--dry-run` sends nothing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { sha256Hex, startFakeGemini } from "../tests/fake_gemini.ts";
import { pngBase64 } from "../tests/fake_gemini/png.ts";
import {
  assertNoKey,
  childEnv,
  GOOD_KEY,
  runChild,
} from "./child_test_helpers.ts";

const PRO = "gemini-3-pro-image";

Deno.test("[cli] a CSV of rows with a shared reference: each row's settings, one upload, names in the manifest", async () => {
  await using fake = startFakeGemini();
  const dir = await Deno.makeTempDir();
  try {
    const rows = join(dir, "rows.csv");
    await Deno.writeTextFile(
      rows,
      `prompt,model,aspect_ratio,count,name\n` +
        `a lighthouse,${PRO},16:9,2,lighthouse\n` +
        `a fox,,,,fox\n`,
    );
    const style = Uint8Array.fromBase64(await pngBase64(8, 8, [1, 2, 3]));
    await Deno.writeFile(join(dir, "style.png"), style);
    const out = join(dir, "out");
    const args = [
      "--prompts",
      rows,
      "--reference",
      join(dir, "style.png"),
      "--out",
      out,
    ];
    const result = await runChild("", childEnv(GOOD_KEY, fake.url), args);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(fake.files().uploaded, 1, "one upload for three requests");
    assert.equal(fake.files().deleted, 1);
    const generate = fake.requests.filter((r) =>
      r.path.endsWith(":generateContent")
    );
    assert.equal(generate.length, 3);
    const sha = await sha256Hex(style);
    for (const request of generate) {
      assert.deepEqual(request.inputImages?.map((i) => i.sha256), [sha]);
    }
    assert.equal(generate.filter((r) => r.path.includes(PRO)).length, 2);
    const text = await Deno.readTextFile(join(out, "manifest.json"));
    const manifest = JSON.parse(text);
    assert.deepEqual(
      manifest.items.map((
        i: { name: string; model: string; aspectRatio: string },
      ) => [i.name, i.model, i.aspectRatio]),
      [
        ["lighthouse", PRO, "16:9"],
        ["lighthouse", PRO, "16:9"],
        ["fox", "gemini-nano-banana-2.1", "1:1"],
      ],
    );
    assert.deepEqual(manifest.batch.references, [{
      name: "style.png",
      mimeType: "image/png",
      bytes: style.length,
      sha256: sha,
    }]);
    assertNoKey(GOOD_KEY, text, result.stdout, result.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[cli] --dry-run prints the expanded rows and the estimate and sends nothing; bad rows exit 2 naming the row", async () => {
  await using fake = startFakeGemini();
  const dir = await Deno.makeTempDir();
  try {
    const prompts = join(dir, "prompts.txt");
    await Deno.writeTextFile(prompts, "a {red|blue} __animal__\n");
    const animals = join(dir, "animal.txt");
    await Deno.writeTextFile(animals, "fox\nowl\n# a comment\n");
    const args = [
      "--prompts",
      prompts,
      "--templates",
      "--wildcards",
      animals,
      "--matrix-model",
      `gemini-nano-banana-2.1,${PRO}`,
      "--out",
      join(dir, "out"),
      "--dry-run",
    ];
    const dry = await runChild("", childEnv(GOOD_KEY, fake.url), args);
    assert.equal(dry.code, 0, dry.stderr);
    const summary = JSON.parse(dry.stdout);
    assert.equal(summary.itemCount, 8);
    assert.deepEqual(
      summary.rows.slice(0, 2).map((r: { prompt: string }) => r.prompt),
      [
        "a red fox",
        "a red fox",
      ],
    );
    assert.match(summary.costLabel, /not a BatchGen charge/);
    assert.equal(fake.requests.length, 0, "nothing was sent to Google");

    const bad = join(dir, "bad.csv");
    await Deno.writeTextFile(
      bad,
      `prompt,aspect_ratio\na fox,1:1\nan owl,7:3\n`,
    );
    const refused = await runChild("", childEnv(GOOD_KEY, fake.url), [
      "--prompts",
      bad,
      "--out",
      join(dir, "out2"),
    ]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /row 2: aspect ratio 7:3 is not offered/);
    assert.equal(fake.requests.length, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
