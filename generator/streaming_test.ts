/**
 * An image larger than a capped heap (issue 13 §2): the real generator child,
 * its V8 heap capped at 32 MB, saves a 40 MB image that Google's stand-in
 * streams as 53 MB of base64. Reading the answer whole (body, text, parsed
 * string, decoded bytes) cannot fit; streaming it into the file does.
 */
import { USAGE_JOURNAL_NAME } from "../core/files.ts";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { decodeEvent, type GeneratorEvent } from "../core/protocol.ts";
import {
  assertNoKey,
  childEnv,
  GOOD_KEY,
  listDir,
  makeJob,
  ROOT,
} from "./child_test_helpers.ts";

// A PNG signature and IHDR (24 bytes, a multiple of 3: its base64 ends on a
// group) followed by zeros, whose base64 is "AAAA" per 3 bytes.
const HEAD = new Uint8Array([
  0x89,
  0x50,
  0x4e,
  0x47,
  0x0d,
  0x0a,
  0x1a,
  0x0a, // signature
  0,
  0,
  0,
  13,
  0x49,
  0x48,
  0x44,
  0x52, // IHDR
  0,
  0,
  0x10,
  0,
  0,
  0,
  0x0c,
  0, // 4096 × 3072
]);
const ZERO_GROUPS = 13_333_333; // 40 MB of zeros
const IMAGE_BYTES = HEAD.length + ZERO_GROUPS * 3;

function bigAnswer(): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const block = encoder.encode("AAAA".repeat(256 * 1024)); // 1 MB of text
  let left = ZERO_GROUPS;
  let stage = 0;
  return new ReadableStream({
    pull(controller) {
      if (stage === 0) {
        stage = 1;
        controller.enqueue(encoder.encode(
          `{"candidates":[{"content":{"parts":[{"text":"here","thought":true},` +
            `{"inlineData":{"mimeType":"image/png","data":"${HEAD.toBase64()}`,
        ));
      } else if (left > 0) {
        const groups = Math.min(left, block.length / 4);
        controller.enqueue(block.subarray(0, groups * 4));
        left -= groups;
      } else if (stage === 1) {
        stage = 2;
        controller.enqueue(encoder.encode(
          `"}}]},"finishReason":"STOP"}],"usageMetadata":` +
            `{"promptTokenCount":5,"candidatesTokenCount":1290}}`,
        ));
      } else controller.close();
    },
  });
}

Deno.test("[child] an image larger than a capped heap is streamed to its file", async () => {
  let requests = 0;
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    async (request) => {
      requests++;
      await request.body?.cancel();
      return new Response(bigAnswer(), {
        headers: { "content-type": "application/json" },
      });
    },
  );
  const dir = await Deno.makeTempDir();
  try {
    const job = makeJob(join(dir, "out"), ["a very large fox"], {
      maxAttempts: 1,
      timeoutMs: 60_000,
    });
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--v8-flags=--max-old-space-size=32",
        "--allow-net=127.0.0.1",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "generator/main.ts",
      ],
      cwd: ROOT,
      clearEnv: true,
      env: childEnv(GOOD_KEY, `http://127.0.0.1:${server.addr.port}`),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify(job)));
    await writer.close();
    const output = await child.output();
    const stdout = new TextDecoder().decode(output.stdout);
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    assertNoKey(GOOD_KEY, stdout, stderr);
    const events: GeneratorEvent[] = stdout.split("\n").filter((l) => l.trim())
      .map(decodeEvent);
    const saved = events.find((e) => e.type === "image-saved");
    assert.ok(saved?.type === "image-saved", stdout + stderr);
    assert.equal(requests, 1);
    assert.equal(saved.fileName, "0001-1.png");
    assert.equal(saved.bytes, IMAGE_BYTES);
    assert.equal(saved.width, 4096);
    assert.equal(saved.height, 3072);
    const hash = createHash("sha256").update(HEAD);
    const zeros = new Uint8Array(3 * 1024 * 1024);
    let left = ZERO_GROUPS * 3;
    while (left > 0) {
      const n = Math.min(left, zeros.length);
      hash.update(zeros.subarray(0, n));
      left -= n;
    }
    assert.equal(saved.sha256, hash.digest("hex"));
    const { size } = await Deno.stat(join(job.outputDir, saved.fileName));
    assert.equal(size, IMAGE_BYTES);
    // No temp file left beside it; the usage note the server reads at the
    // run's end (core/files.ts USAGE_JOURNAL_NAME).
    assert.deepEqual(await listDir(job.outputDir), [
      "0001-1.png",
      USAGE_JOURNAL_NAME,
    ]);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
