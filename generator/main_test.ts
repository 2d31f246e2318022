/**
 * The real generator child process against the fake Gemini server: events on
 * stdout, files on disk, and no key in any output (K4, K5).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { decodeEvent, type GeneratorEvent } from "../core/protocol.ts";
import { sha256Hex } from "../lib/storage.ts";
import { startFakeGemini } from "../tests/fake_gemini.ts";
import {
  assertNoKey,
  BAD_KEY,
  childEnv,
  GOOD_KEY,
  listDir,
  makeJob,
  runChild,
  spawn,
} from "./child_test_helpers.ts";

Deno.test("[child] generates, blocks and retries against the fake", async () => {
  await using fake = startFakeGemini();
  const dir = await Deno.makeTempDir();
  try {
    const job = makeJob(join(dir, "out"), [
      "a red fox",
      "a fox [block:IMAGE_SAFETY]",
      "a blue fox [fail-once:503]",
      "a chatty fox [text-only]",
    ]);
    const result = await runChild(
      JSON.stringify(job),
      childEnv(GOOD_KEY, fake.url),
    );
    assert.equal(result.code, 0, result.stderr);
    const byItem = (id: string) =>
      result.events.filter((e) => "itemId" in e && e.itemId === id);
    const savedFor = (id: string) =>
      byItem(id).find((e) => e.type === "image-saved") as
        | Extract<GeneratorEvent, { type: "image-saved" }>
        | undefined;

    assert.deepEqual(result.events[0], { type: "started", items: 4 });
    assert.deepEqual(result.events.at(-1), {
      type: "done",
      succeeded: 2,
      failed: 2,
    });

    const first = savedFor("item-0");
    assert.ok(first, "first item saved");
    assert.match(first.fileName, /^0001-1\.(png|jpg|webp)$/);
    const bytes = await Deno.readFile(join(job.outputDir, first.fileName));
    assert.equal(first.bytes, bytes.length);
    assert.equal(first.sha256, await sha256Hex(bytes));
    assert.ok(first.width && first.height, "dimensions read");
    assert.ok(byItem("item-0").some((e) => e.type === "usage"));

    const blocked = byItem("item-1").find((e) => e.type === "item-failed");
    assert.equal(blocked?.type === "item-failed" && blocked.kind, "blocked");
    assert.match(
      blocked?.type === "item-failed" ? blocked.message : "",
      /IMAGE_SAFETY/,
    );
    assert.equal(
      byItem("item-1").filter((e) => e.type === "item-started").length,
      1,
    );

    const retried = byItem("item-2").filter((e) => e.type === "item-started");
    assert.deepEqual(
      retried.map((e) => e.type === "item-started" && e.attempt),
      [1, 2],
    );
    assert.ok(savedFor("item-2"), "retried item saved");

    const noImage = byItem("item-3").find((e) => e.type === "item-failed");
    assert.equal(noImage?.type === "item-failed" && noImage.kind, "no-image");

    assert.deepEqual(
      (await listDir(job.outputDir)).filter((n) => n.startsWith(".")),
      [],
      "no temp files",
    );
    for (const request of fake.requests) {
      assert.equal(request.headers["x-goog-api-key"], GOOD_KEY);
      assert.equal(JSON.stringify(request.query).includes("key"), false);
      assert.match(request.path, /^\/v1beta\//);
    }
    assertNoKey(GOOD_KEY, result.stdout, result.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[child] an invalid key stops the batch and is never echoed", async () => {
  await using fake = startFakeGemini();
  const dir = await Deno.makeTempDir();
  try {
    const job = makeJob(dir, ["one", "two", "three", "four", "five"], {
      concurrency: 2,
    });
    const result = await runChild(
      JSON.stringify(job),
      childEnv(BAD_KEY, fake.url),
    );
    assert.equal(result.code, 0, result.stderr);
    const stops = result.events.filter((e) => e.type === "batch-stopped");
    assert.equal(stops.length, 1);
    assert.equal(stops[0]?.type === "batch-stopped" && stops[0].kind, "auth");
    assert.match(
      stops[0]?.type === "batch-stopped" ? stops[0].message : "",
      /Check the key/,
    );
    assert.equal(
      result.events.filter((e) => e.type === "item-failed").length,
      0,
    );
    assert.deepEqual(result.events.at(-1), {
      type: "done",
      succeeded: 0,
      failed: 0,
    });
    assert.ok(fake.stats().generate <= 2, "nothing new started after the stop");
    assertNoKey(BAD_KEY, result.stdout, result.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[child] refuses to run without a key or with a bad job", async () => {
  const noKey = await runChild("{}", childEnv(undefined, "http://127.0.0.1:9"));
  assert.equal(noKey.code, 2);
  assert.match(noKey.stderr, /GEMINI_API_KEY is not set/);
  assert.equal(noKey.stdout, "");

  const notJson = await runChild(
    "{nope",
    childEnv(GOOD_KEY, "http://127.0.0.1:9"),
  );
  assert.equal(notJson.code, 2);
  assert.match(notJson.stderr, /not valid JSON/);

  const invalid = await runChild(
    JSON.stringify({ batchId: "b", items: [] }),
    childEnv(GOOD_KEY, "http://127.0.0.1:9"),
  );
  assert.equal(invalid.code, 2);
  assert.match(invalid.stderr, /invalid job: .*model/);
  assertNoKey(GOOD_KEY, noKey.stderr, notJson.stderr, invalid.stderr);
});

Deno.test("[child] exits promptly on SIGTERM and leaves no temp files", async () => {
  await using fake = startFakeGemini();
  const dir = await Deno.makeTempDir();
  try {
    const job = makeJob(dir, ["slow [slow:30000]", "slow too [slow:30000]"]);
    const child = spawn([], childEnv(GOOD_KEY, fake.url));
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify(job)));
    await writer.close();
    // Wait until both requests reached the fake, then ask the child to stop.
    for (let i = 0; i < 200 && fake.stats().generate < 2; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    const asked = performance.now();
    child.kill("SIGTERM");
    const output = await child.output();
    assert.ok(performance.now() - asked < 3_000, "exited promptly");
    assert.equal(output.code, 143);
    const events = new TextDecoder().decode(output.stdout).split("\n").filter(
      Boolean,
    )
      .map(decodeEvent);
    assert.equal(events.some((e) => e.type === "done"), false);
    assert.deepEqual(await listDir(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
