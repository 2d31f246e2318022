import assert from "node:assert/strict";
import { job, run } from "./pool_test_helpers.ts";

const GIF = new TextEncoder().encode("GIF89a......");

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  return out;
}

Deno.test("runPool() reports an unsupported image type as a storage failure, not retried", async () => {
  await withDir(async (dir) => {
    let calls = 0;
    const { result, of } = await run(job(["x"], { outputDir: dir }), {
      request: () => {
        calls++;
        return Promise.resolve({
          ok: true,
          image: { mimeType: "image/gif", data: GIF.toBase64() },
        });
      },
      save: undefined,
    });
    assert.equal(calls, 1);
    assert.equal(of("image-saved").length, 0);
    const failed = of("item-failed")[0];
    assert.equal(failed?.kind, "storage");
    assert.match(
      failed.message,
      /Google returned an image type BatchGen cannot store: image\/gif/,
    );
    assert.equal(result.failed, 1);
    assert.deepEqual(await names(dir), []);
  });
});
