/**
 * K6 when the request ends before its generator has even started (a Cancel
 * or a disconnect while the run is being prepared): the generator that is
 * then spawned is stopped at once and never calls Google. Before the fix, an
 * already-aborted signal never fired "abort" again and the child ran the
 * whole batch with the key after its request was over.
 */
import assert from "node:assert/strict";
import { spawnGenerator } from "../engine/runner.ts";
import { createBatchViaApi, startTestApp, TEST_KEY } from "./_helpers.ts";

const MODEL = "gemini-nano-banana-2.1";

for (const reason of ["cancelled", "disconnected"] as const) {
  Deno.test(`K6 a run aborted (${reason}) before its generator starts never reaches Google; the child is stopped`, async () => {
    await using t = await startTestApp();
    const { id, cookie } = await createBatchViaApi(t, {
      prompts: ["a gull", "a tern", "a skua"],
      model: MODEL,
    });
    let abortedBeforeSpawn: boolean | undefined;
    let exitCode: Promise<number> | undefined;
    // The abort lands exactly between the run's start and the spawn.
    t.deps.spawn = (job, options) => {
      if (reason === "cancelled") t.deps.activeRuns.cancel(job.batchId);
      // What the stream's onAbort does when the client goes away.
      else t.deps.activeRuns.abortAll("disconnected");
      abortedBeforeSpawn = options.signal?.aborted;
      const run = spawnGenerator(job, options);
      exitCode = run.exited;
      return run;
    };
    const response = await t.request(`/api/batches/${id}/run`, {
      method: "POST",
      headers: { cookie, "x-goog-api-key": TEST_KEY },
    });
    assert.equal(response.status, 200);
    await response.text();
    assert.equal(abortedBeforeSpawn, true);
    assert.notEqual(await exitCode, 0, "the generator was not stopped");
    assert.equal(
      t.fake.requests.filter((r) => r.path.includes(":generate")).length,
      0,
      "Google was called for an aborted run",
    );
    const record = await (await t.request(`/api/batches/${id}`, {
      headers: { cookie },
    })).json();
    assert.equal(
      record.status,
      reason === "cancelled" ? "cancelled" : "interrupted",
    );
    assert.equal(t.deps.activeRuns.size, 0);
  });
}
