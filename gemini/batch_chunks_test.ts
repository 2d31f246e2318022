import assert from "node:assert/strict";
import { chunkRequests, type PlacedRequest } from "./batch_chunks.ts";
import { LIMITS } from "../core/limits.ts";

const request = (model: string, key: string, prompt = "p"): PlacedRequest => ({
  model,
  row: { key, request: { contents: [{ parts: [{ text: prompt }] }] } },
});

Deno.test("chunkRequests() splits by model and at the server's row cap; small jobs go inline", () => {
  // The server's case (tests/google_batch_test.ts): 203 rows × 2 models.
  const rows = LIMITS.batchJobRows * 2 + 3;
  const requests = Array.from({ length: rows }, (_, i) => [
    request("a", `${i}-a`),
    request("b", `${i}-b`),
  ]).flat();
  const chunks = chunkRequests(requests);
  assert.deepEqual(
    chunks.map((c) => `${c.model} ${c.rows.length} ${c.inline}`),
    ["a 100 false", "b 100 false", "a 100 false", "b 100 false"]
      .concat(["a 3 true", "b 3 true"]),
  );
  // Every request once, in order within its model.
  assert.deepEqual(
    chunks.filter((c) => c.model === "a").flatMap((c) =>
      c.rows.map((r) => r.key)
    ),
    Array.from({ length: rows }, (_, i) => `${i}-a`),
  );
});

Deno.test("chunkRequests() cuts at the byte cap and counts JSONL bytes with the newline", () => {
  const one = JSON.stringify(request("a", "0").row).length + 1;
  const limits = { jobRows: 100, jobBytes: one * 2, inlineRows: 1 };
  const chunks = chunkRequests(
    [request("a", "0"), request("a", "1"), request("a", "2")],
    limits,
  );
  assert.deepEqual(chunks.map((c) => c.rows.length), [2, 1]);
  assert.deepEqual(chunks.map((c) => c.bytes), [one * 2, one]);
  assert.deepEqual(chunks.map((c) => c.inline), [false, true]);
  // A request over the cap alone still gets a job: Google decides.
  const big = chunkRequests(
    [request("a", "0"), request("a", "1", "x".repeat(one * 3))],
    limits,
  );
  assert.deepEqual(big.map((c) => c.rows.length), [1, 1]);
  assert.deepEqual(chunkRequests([]), []);
});
