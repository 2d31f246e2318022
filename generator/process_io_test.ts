import assert from "node:assert/strict";
import { createLineWriter, takeApiKey } from "./process_io.ts";

function collector() {
  const chunks: string[] = [];
  const stream = new WritableStream<Uint8Array>({
    async write(chunk) {
      // A slow sink: later writes must still queue behind earlier ones.
      await new Promise((r) => setTimeout(r, Math.random() * 3));
      chunks.push(new TextDecoder().decode(chunk));
    },
  });
  return { stream, chunks };
}

Deno.test("createLineWriter() keeps whole lines in call order", async () => {
  const { stream, chunks } = collector();
  const writer = createLineWriter(stream);
  const lines = Array.from({ length: 50 }, (_, i) => `{"n":${i}}\n`);
  await Promise.all(
    lines.map((line) => Promise.resolve().then(() => writer.write(line))),
  );
  await writer.flush();
  assert.deepEqual(chunks, lines);
});

Deno.test("createLineWriter() applies its transform and survives a closed pipe", async () => {
  const { stream, chunks } = collector();
  const writer = createLineWriter(stream, (t) => t.toUpperCase());
  writer.write("abc\n");
  await writer.flush();
  assert.deepEqual(chunks, ["ABC\n"]);

  const broken = new WritableStream<Uint8Array>({
    write() {
      throw new Error("EPIPE");
    },
  });
  const dead = createLineWriter(broken);
  dead.write("x\n");
  dead.write("y\n");
  await dead.flush();
});

Deno.test("takeApiKey() reads the key once and removes it from the environment", () => {
  Deno.env.set("GEMINI_API_KEY", "  AQ.some-test-key-value-123  ");
  assert.equal(takeApiKey(), "AQ.some-test-key-value-123");
  assert.equal(Deno.env.get("GEMINI_API_KEY"), undefined);
  assert.equal(takeApiKey(), undefined);
});
