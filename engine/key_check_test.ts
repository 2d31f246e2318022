/** [key_check] One deadline for a whole key check, however the upstream stalls. */
import assert from "node:assert/strict";
import { checkKey } from "./key_check.ts";

const KEY = "AQ.Ab8RN6LkDeadlineTestKey0123456789abcdefghij";

Deno.test("[key_check] an upstream that never answers is given up on at the deadline, with a clear message", async () => {
  const hang = new AbortController();
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      new Promise<Response>((resolve) =>
        hang.signal.addEventListener(
          "abort",
          () => resolve(new Response("late")),
        )
      ),
  );
  const started = performance.now();
  const result = await checkKey(KEY, `http://127.0.0.1:${server.addr.port}`, {
    timeoutMs: 300,
  });
  hang.abort();
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.problem.code, "google_unreachable");
  assert.match(result.problem.message, /in time/);
  assert.ok(performance.now() - started < 5_000, "it did not wait for ever");
});

Deno.test("[key_check] a slow listing that keeps paging stops at the same deadline", async () => {
  let pages = 0;
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      pages++;
      await new Promise((r) => setTimeout(r, 120));
      const token = Number(
        new URL(request.url).searchParams.get("pageToken") ?? 0,
      );
      return Response.json({
        models: [{ name: `models/gemini-${token}-image` }],
        nextPageToken: String(token + 1),
      });
    },
  );
  const result = await checkKey(KEY, `http://127.0.0.1:${server.addr.port}`, {
    timeoutMs: 300,
  });
  assert.equal(result.ok, false, "the deadline covers every page");
  assert.ok(pages <= 4, `${pages} pages asked for`);
});
