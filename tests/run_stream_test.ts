/** [sse] What the page's run stream sends: live tiles, and the stopped ones at the end. */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { GeneratorEvent } from "../core/protocol.ts";
import { createBatchViaApi, startTestApp, TEST_KEY } from "./_helpers.ts";

Deno.test("[sse] a cancelled run's last message turns every unfinished tile into Cancelled", async () => {
  await using t = await startTestApp({ fake: { latencyMs: 400 } });
  const { id, cookie } = await createBatchViaApi(t, {
    prompts: Array.from({ length: 6 }, (_, i) => `a paper boat ${i}`),
    model: "gemini-nano-banana-2.1",
    concurrency: 1,
  });
  const run = await t.request(`/batches/${id}/run`, {
    method: "POST",
    headers: { cookie, "hx-request": "true" },
    body: new URLSearchParams({ apiKey: TEST_KEY }),
  });
  assert.equal(run.status, 200);
  assert.match(run.headers.get("content-type") ?? "", /text\/event-stream/);
  const reader = run.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes('data-status="succeeded"')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  const cancel = await t.request(`/batches/${id}/cancel`, {
    method: "POST",
    headers: { cookie },
  });
  await cancel.body?.cancel();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  const record =
    await (await t.request(`/api/batches/${id}`, { headers: { cookie } }))
      .json();
  const cancelled = record.items.filter((i: { status: string }) =>
    i.status === "cancelled"
  );
  assert.ok(
    cancelled.length >= 4,
    `most items were cancelled (${cancelled.length})`,
  );
  const lastMessage = text.slice(text.lastIndexOf("\n\ndata:"));
  assert.match(lastMessage, /class="run run-finished/);
  for (const item of cancelled) {
    assert.match(
      lastMessage,
      new RegExp(
        `hx-target="#tile-${item.id}"[^>]*><figure id="tile-${item.id}"[^>]*data-status="cancelled"`,
      ),
      `tile ${item.id} is updated to cancelled`,
    );
  }
});

Deno.test("[run] a generator killed mid-write leaves no temp file behind once its run has ended", async () => {
  await using t = await startTestApp();
  // Stands in for a generator killed by Cancel half-way through a write.
  t.deps.spawn = (job) => ({
    pid: 0,
    events: (async function* (): AsyncGenerator<GeneratorEvent> {
      await Deno.writeTextFile(
        join(job.outputDir, ".0001-1.png.tmp-0123456789abcdef"),
        "half",
      );
      yield { type: "started", items: job.items.length };
    })(),
    exited: Promise.resolve(137),
    kill() {},
  });
  const { id, cookie } = await createBatchViaApi(t, {
    prompts: ["a half-drawn owl"],
    model: "gemini-nano-banana-2.1",
  });
  const run = await t.request(`/api/batches/${id}/run`, {
    method: "POST",
    headers: { cookie, "x-goog-api-key": TEST_KEY },
  });
  await run.text();
  const left = [...Deno.readDirSync(join(t.config.imagesDir, id))].map((e) =>
    e.name
  );
  assert.deepEqual(left, ["manifest.json"]);
});
