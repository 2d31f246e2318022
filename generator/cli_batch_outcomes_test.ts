/**
 * [cli] How `--sync` ends: an expired job, per-row errors and blocks (each
 * mapped as the server maps them), and the refusals that exit 2 before
 * anything reaches Google.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  assertNoKey,
  BAD_KEY,
  childEnv,
  GOOD_KEY,
  runChild,
} from "./child_test_helpers.ts";
import {
  LITE,
  type ManifestItem,
  NB,
  PRO,
  setup,
  STATE,
} from "./cli_batch_test_helpers.ts";

Deno.test("[cli] an expired job keeps its results and gives the rest a reason; per-row errors and blocks are mapped like the server's", async () => {
  await using t = await setup(
    ["a", "b [block:IMAGE_SAFETY]", "c [status:500]", "d"],
    { getsPerState: 0, finalState: "EXPIRED" },
  );
  assert.equal((await t.submit("--model", LITE)).code, 0);
  const synced = await t.sync();
  assert.equal(synced.code, 1, synced.stderr);
  const manifest = await t.manifest();
  assert.equal(manifest.batch.status, "partial");
  const [a, b, c, d] = manifest.items as ManifestItem[];
  // EXPIRED: the fake answered the first half of the rows.
  assert.equal(a!.status, "succeeded");
  assert.equal(b!.status, "blocked");
  assert.match(String(b!.errorMessage), /IMAGE_SAFETY/);
  assert.equal(c!.errorKind, "expired");
  assert.match(String(c!.errorMessage), /time limit/);
  assert.equal(d!.errorKind, "expired");
  assert.match(synced.stderr, /0003-1 failed \(expired\)/);
  assert.equal((await t.images()).length, 1);
});

Deno.test("[cli] per-row server errors fail only their item; a refused key exits 1 and changes nothing", async () => {
  await using t = await setup(["fine", "oops [status:500]"], {
    getsPerState: 0,
  });
  assert.equal((await t.submit("--model", LITE)).code, 0);
  // A key Google refuses: exit 1 (waiting would not help), nothing changes.
  const refused = await runChild("", childEnv(BAD_KEY, t.fake.url), [
    "--sync",
    t.out,
  ]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /batches\/\w+: .*key/i);
  assertNoKey(BAD_KEY, refused.stderr, refused.stdout, await t.read(STATE));
  assert.equal(JSON.parse(await t.read(STATE)).jobs[0].collected, false);
  const synced = await t.sync();
  assert.equal(synced.code, 1, synced.stderr);
  const [fine, oops] = (await t.manifest()).items as ManifestItem[];
  assert.equal(fine!.status, "succeeded");
  assert.equal(oops!.status, "failed");
  assert.equal(oops!.errorKind, "server");
  assert.equal((await t.manifest()).batch.status, "partial");
});

Deno.test("[cli] a job Google refuses stops the submission: the jobs made are kept and synced, the rest say they never left", async () => {
  // The key cannot use the Pro model: its job is refused with a 404.
  await using t = await setup(["a", "b"], { getsPerState: 0 }, {
    models: [NB],
  });
  const submitted = await t.submit("--matrix-model", `${NB},${PRO}`);
  assert.equal(submitted.code, 1, submitted.stderr);
  assert.match(
    submitted.stderr,
    /Not every image was submitted: Google refused job 2 of 2/,
  );
  const state = JSON.parse(await t.read(STATE));
  assert.equal(state.jobs.length, 1);
  assert.deepEqual(
    (await t.manifest()).items.map((i: ManifestItem) => i.status),
    ["submitted", "interrupted", "submitted", "interrupted"],
  );
  const synced = await t.sync();
  assert.equal(synced.code, 1, synced.stderr);
  const manifest = await t.manifest();
  assert.equal(manifest.batch.status, "interrupted");
  assert.match(manifest.batch.statusMessage, /Google refused job 2/);
  assert.equal(manifest.batch.counts.succeeded, 2);
  assertNoKey(GOOD_KEY, ...t.outputs);
});

Deno.test("[cli] --sync without a state file, or with a broken one, exits 2 saying so; a budget Batch mode cannot honour exits 2", async () => {
  await using t = await setup(["a lighthouse"], {});
  const none = await t.sync();
  assert.equal(none.code, 2);
  assert.match(
    none.stderr,
    /No Batch-mode jobs to sync in .*out: batchgen-jobs\.json is not there\. Submit a batch with --batch-mode/,
  );
  await Deno.mkdir(t.out);
  await Deno.writeTextFile(join(t.out, STATE), `{"format":"batchgen-cli-jobs"`);
  const broken = await t.sync();
  assert.equal(broken.code, 2);
  assert.match(broken.stderr, /is not a BatchGen CLI state file/);
  const withOthers = await t.cli(["--sync", t.out, "--model", NB]);
  assert.equal(withOthers.code, 2);
  assert.match(withOthers.stderr, /--sync DIR takes no other options/);

  const over = await t.submit("--budget-usd", "0.001");
  assert.equal(over.code, 2);
  assert.match(over.stderr, /Not submitted: Batch mode sends every image/);
  assert.equal(t.fake.requests.length, 0, "nothing reached Google");
  assertNoKey(GOOD_KEY, ...t.outputs);
});
