/**
 * [cli] Batch mode from the command line (issue #12), end to end against
 * the fake's Batch API: `--batch-mode` submits jobs and writes the state
 * file, `--sync DIR` collects them (exit 3 while Google still works), every
 * image saved once at half the price, and the key in none of it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pngBase64 } from "../tests/fake_gemini/png.ts";
import { BATCH_DISCOUNT, costFromUsage } from "../core/cost.ts";
import { assertNoKey, GOOD_KEY } from "./child_test_helpers.ts";
import {
  LITE,
  type ManifestItem,
  NB,
  PRO,
  savedLines,
  setup,
  STATE,
} from "./cli_batch_test_helpers.ts";

Deno.test("[cli] --batch-mode submits jobs and --sync collects them: exit 3 while at Google, then every image once at half the price", async () => {
  await using t = await setup(["a lighthouse", "a fox", "an owl"], {
    getsPerState: 1,
  });
  const style = Uint8Array.fromBase64(await pngBase64(8, 8, [1, 2, 3]));
  await Deno.writeFile(join(t.dir, "style.png"), style);
  const args = [
    "--reference",
    join(t.dir, "style.png"),
    "--matrix-model",
    `${NB},${PRO}`,
  ];

  const dry = await t.submit(...args, "--dry-run");
  assert.equal(dry.code, 0, dry.stderr);
  const standard = await t.cli([
    ...["--prompts", join(t.dir, "prompts.txt"), "--out", t.out],
    ...[...args, "--dry-run"],
  ]);
  const half = JSON.parse(dry.stdout).estimatedCostUsd;
  assert.equal(JSON.parse(dry.stdout).mode, "batch");
  assert.ok(
    Math.abs(half * 2 - JSON.parse(standard.stdout).estimatedCostUsd) < 1e-9,
  );
  assert.equal(t.fake.requests.length, 0, "a dry run sends nothing");

  const submitted = await t.submit(...args);
  assert.equal(submitted.code, 0, submitted.stderr);
  const jobs = t.fake.batchJobs();
  assert.equal(jobs.length, 2, "one job per model");
  assert.deepEqual(jobs.map((j) => [j.requestCount, j.inputKind]), [
    [3, "inline"],
    [3, "inline"],
  ]);
  for (const job of jobs) assert.match(submitted.stderr, new RegExp(job.name));
  assert.match(submitted.stderr, /Estimate at the Batch price: \$[\d.]+/);
  assert.match(submitted.stderr, /not a BatchGen charge/);
  assert.match(submitted.stderr, /--sync /);
  assert.equal(t.fake.stats().generate, 0, "no image was asked for now");
  assert.equal(t.fake.files().uploaded, 1, "the reference went up once");

  const state = JSON.parse(await t.read(STATE));
  assert.deepEqual(
    state.jobs.map((j: { name: string }) => j.name),
    jobs.map((j) => j.name),
  );
  assert.equal(state.jobs[0].collected, false);
  assert.equal(state.jobs[0].uploadedFiles.length, 1);
  // The matrix puts each prompt's two models side by side.
  assert.deepEqual(state.jobs[0].itemIds, ["0-0", "2-0", "4-0"]);
  let manifest = await t.manifest();
  assert.equal(manifest.batch.mode, "batch");
  assert.equal(manifest.batch.status, "submitted");
  assert.ok(Math.abs(manifest.batch.cost.estimatedUsd - half) < 1e-12);
  assert.ok(
    manifest.items.every((i: ManifestItem) => i.status === "submitted"),
  );

  // A second submission into the same folder would lose track of these.
  const again = await t.submit(...args);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /holds jobs still at Google/);
  assert.equal(t.fake.batchJobs().length, 2);

  const pending = await t.sync();
  assert.equal(pending.code, 3, pending.stderr);
  assert.match(pending.stderr, /pending at Google/);
  const running = await t.sync();
  assert.equal(running.code, 3, running.stderr);
  assert.match(running.stderr, /running at Google/);
  assert.deepEqual(await t.images(), []);

  const done = await t.sync();
  assert.equal(done.code, 0, done.stderr);
  assert.equal(savedLines(done.stderr), 6);
  assert.equal((await t.images()).length, 6);
  manifest = await t.manifest();
  assert.equal(manifest.generator, "BatchGen CLI");
  assert.equal(manifest.batch.mode, "batch");
  assert.equal(manifest.batch.status, "done");
  assert.deepEqual(manifest.batch.counts, {
    items: 6,
    succeeded: 6,
    failed: 0,
    blocked: 0,
  });
  let total = 0;
  for (const item of manifest.items as ManifestItem[]) {
    assert.equal(item.status, "succeeded");
    assert.ok(item.file && (await t.images()).includes(item.file));
    const full = costFromUsage(item.model, item.usage!)!;
    assert.ok(full > 0);
    assert.ok(Math.abs(item.estimatedCostUsd! - full * BATCH_DISCOUNT) < 1e-12);
    total += item.estimatedCostUsd!;
  }
  assert.ok(Math.abs(manifest.batch.cost.actualUsd - total) < 1e-12);
  // Once every job is collected, what was uploaded for them is gone.
  const after = JSON.parse(await t.read(STATE));
  assert.ok(after.jobs.every((j: { collected: boolean }) => j.collected));
  assert.deepEqual(after.jobs[0].uploadedFiles, []);
  assert.deepEqual(
    t.fake.files().live.filter((n) => !n.startsWith("files/batch-")),
    [],
  );

  // Syncing again asks Google nothing and changes nothing.
  const gets = t.fake.batchJobs().map((j) => j.gets);
  const idle = await t.sync();
  assert.equal(idle.code, 0, idle.stderr);
  assert.equal(savedLines(idle.stderr), 0);
  assert.deepEqual(t.fake.batchJobs().map((j) => j.gets), gets);
  assert.deepEqual((await t.manifest()).items, manifest.items);

  assertNoKey(
    GOOD_KEY,
    await t.read(STATE),
    await t.read("manifest.json"),
    ...t.outputs,
  );
});

Deno.test("[cli] a --sync cut off mid-download leaves the job uncollected; the next one finishes it with no image twice", async () => {
  await using t = await setup(
    Array.from({ length: 30 }, (_, i) => `a lighthouse, variant ${i}`),
    { getsPerState: 0, downloadFailOnce: "cut" },
  );
  assert.equal((await t.submit("--model", LITE)).code, 0);
  assert.equal(t.fake.batchJobs()[0]!.inputKind, "file", "30 rows: JSONL");

  const cut = await t.sync();
  assert.equal(cut.code, 3, cut.stderr);
  assert.match(cut.stderr, /syncing again continues it/);
  const first = savedLines(cut.stderr);
  assert.ok(first < 30);
  assert.equal(JSON.parse(await t.read(STATE)).jobs[0].collected, false);

  const rest = await t.sync();
  assert.equal(rest.code, 0, rest.stderr);
  assert.equal(first + savedLines(rest.stderr), 30, "each image saved once");
  assert.equal((await t.images()).length, 30);
  const manifest = await t.manifest();
  assert.equal(manifest.batch.counts.succeeded, 30);
  assert.ok(manifest.items.every((i: ManifestItem) => i.attempts === 1));
  const sum = manifest.items.reduce(
    (s: number, i: ManifestItem) => s + i.estimatedCostUsd!,
    0,
  );
  assert.ok(Math.abs(manifest.batch.cost.actualUsd - sum) < 1e-12);
  assert.ok(JSON.parse(await t.read(STATE)).jobs[0].collected);
  assertNoKey(GOOD_KEY, await t.read(STATE), ...t.outputs);
});
