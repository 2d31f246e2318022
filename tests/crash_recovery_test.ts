/**
 * [crash] Kill the real server with SIGKILL mid-batch, start it again on the
 * same data dir and resume: nothing finished is lost, nothing is generated twice.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startFakeGemini } from "./fake_gemini.ts";
import { TEST_KEY } from "./_helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function startServer(env: Record<string, string>) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

async function waitForServer(url: string) {
  for (let i = 0; i < 100; i++) {
    try {
      const response = await fetch(url);
      await response.body?.cancel();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`server did not start at ${url}`);
}

/** The environment of a real server on a free port against the fake. */
function serverEnv(dataDir: string, fakeUrl: string) {
  const port = freePort();
  const denoDir = Deno.env.get("DENO_DIR");
  return {
    url: `http://127.0.0.1:${port}`,
    env: {
      PORT: String(port),
      BATCHGEN_DATA_DIR: dataDir,
      BATCHGEN_GEMINI_BASE_URL: fakeUrl,
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "",
      ...(denoDir ? { DENO_DIR: denoDir } : {}),
    },
  };
}

async function stopServer(server: Deno.ChildProcess, dataDir: string) {
  try {
    server.kill("SIGKILL");
  } catch {
    // Already gone.
  }
  await server.status;
  await server.stderr.cancel().catch(() => {});
  await Deno.remove(dataDir, { recursive: true }).catch(() => {});
}

/** Creates a batch of `count` prompts through the API and starts its run. */
async function createAndRun(
  url: string,
  label: string,
  count: number,
  concurrency: number,
) {
  const created = await fetch(`${url}/api/batches`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      prompts: Array.from({ length: count }, (_, i) => `${label} prompt ${i}`),
      model: "gemini-nano-banana-2.1",
      concurrency,
    }),
  });
  const cookie = created.headers.get("set-cookie")!.split(";")[0]!;
  const { id } = await created.json();
  const run = await fetch(`${url}/api/batches/${id}/run`, {
    method: "POST",
    headers: { cookie, "x-goog-api-key": TEST_KEY },
  });
  const reader = run.body!.pipeThrough(new TextDecoderStream()).getReader();
  return { id: id as string, cookie, reader };
}

Deno.test("[crash] SIGKILL mid-batch, restart, resume to completion without duplicates", async () => {
  await using fake = startFakeGemini({ latencyMs: 300 });
  const dataDir = await Deno.makeTempDir({ prefix: "batchgen-crash-" });
  const { env, url } = serverEnv(dataDir, fake.url);
  let server = startServer(env);
  try {
    await waitForServer(url);
    const { id, cookie, reader } = await createAndRun(url, "crash", 12, 2);
    let saved = 0;
    let text = "";
    while (saved < 3) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
      saved = text.split("\n").filter((l) =>
        l.includes('"image-saved"')
      ).length;
    }
    server.kill("SIGKILL");
    await server.status;
    await reader.cancel().catch(() => {});
    const requestsBeforeCrash = fake.stats().generate;
    // Let an orphaned generator notice its parent is gone.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const requestsAfterOrphanWindow = fake.stats().generate;

    server = startServer(env);
    await waitForServer(url);
    const after =
      await (await fetch(`${url}/api/batches/${id}`, { headers: { cookie } }))
        .json();
    assert.equal(after.status, "interrupted");
    assert.match(after.statusMessage, /Resume/);
    const succeededBefore = after.items.filter((i: { status: string }) =>
      i.status === "succeeded"
    ).length;
    assert.ok(
      succeededBefore >= 3,
      `at least the 3 saved images survive (got ${succeededBefore})`,
    );
    assert.ok(
      after.items.every((i: { status: string }) =>
        ["succeeded", "interrupted"].includes(i.status)
      ),
    );

    const resumed = await fetch(`${url}/api/batches/${id}/run`, {
      method: "POST",
      headers: { cookie, "x-goog-api-key": TEST_KEY },
    });
    const lines = (await resumed.text()).split("\n").filter(Boolean).map((l) =>
      JSON.parse(l)
    );
    const final = lines.at(-1);
    assert.equal(final.type, "batch");
    assert.equal(final.batch.status, "done");
    assert.equal(final.batch.counts.succeeded, 12);
    const resumedRequests = fake.stats().generate - requestsAfterOrphanWindow;
    assert.equal(
      resumedRequests,
      12 - succeededBefore,
      "the resume generates only the missing images",
    );
    assert.ok(
      requestsAfterOrphanWindow - requestsBeforeCrash <= 2,
      "an orphaned generator stops quickly",
    );

    const perPrompt = requestsPerPrompt(fake.requests, "crash");
    assert.deepEqual(
      [...perPrompt.values()],
      Array(12).fill(1),
      "each prompt was requested exactly once across the crash",
    );

    const files = [...Deno.readDirSync(join(dataDir, "images", id))].map((e) =>
      e.name
    );
    assert.equal(files.filter((f) => f.endsWith(".png")).length, 12);
    assert.equal(
      files.filter((f) => f.startsWith(".")).length,
      0,
      "no temp files left",
    );
    const manifest = JSON.parse(
      await Deno.readTextFile(join(dataDir, "images", id, "manifest.json")),
    );
    assert.equal(
      manifest.items.filter((i: { file: string | null }) => i.file).length,
      12,
    );
  } finally {
    await stopServer(server, dataDir);
  }
});

/** generateContent requests per prompt number of `label`'s batch. */
function requestsPerPrompt(
  requests: { path: string; body: unknown }[],
  label: string,
): Map<number, number> {
  const counts = new Map<number, number>();
  const pattern = new RegExp(`${label} prompt (\\d+)`);
  for (const request of requests) {
    if (!request.path.includes(":generateContent")) continue;
    const match = JSON.stringify(request.body).match(pattern);
    if (!match) continue;
    const n = Number(match[1]);
    counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  return new Map([...counts].sort(([a], [b]) => a - b));
}

Deno.test("[crash] images in flight at a SIGKILL are saved by the orphan, adopted, and never requested again", async () => {
  // Long requests: the orphan is still finishing when the server is back.
  await using fake = startFakeGemini({ latencyMs: 6_000 });
  const dataDir = await Deno.makeTempDir({ prefix: "batchgen-inflight-" });
  const { env, url } = serverEnv(dataDir, fake.url);
  let server = startServer({ ...env, BATCHGEN_LEASE_SECONDS: "6" });
  try {
    await waitForServer(url);
    const { id, cookie, reader } = await createAndRun(url, "inflight", 8, 4);
    let text = "";
    while (text.split('"item-started"').length - 1 < 4) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    // Four paid requests in flight at the fake.
    await new Promise((resolve) => setTimeout(resolve, 300));
    server.kill("SIGKILL");
    await server.status;
    await reader.cancel().catch(() => {});
    assert.equal(fake.stats().generate, 4);

    server = startServer({ ...env, BATCHGEN_LEASE_SECONDS: "6" });
    await waitForServer(url);
    const resume = () =>
      fetch(`${url}/api/batches/${id}/run`, {
        method: "POST",
        headers: { cookie, "x-goog-api-key": TEST_KEY },
      });
    // The orphan still holds the batch's lock: Resume refuses, not races.
    const early = await resume();
    const earlyBody = await early.text();
    assert.equal(early.status, 409, earlyBody);
    assert.match(earlyBody, /still saving/);
    assert.equal(fake.stats().generate, 4, "nothing new was requested");

    // Once the orphan has saved its four images and exited, Resume runs.
    let lines: {
      type: string;
      batch?: { status: string; counts: { succeeded: number } };
    }[] = [];
    for (let i = 0; i < 60; i++) {
      const response = await resume();
      if (response.status === 409) {
        await response.body?.cancel();
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      lines = (await response.text()).split("\n").filter(Boolean).map((l) =>
        JSON.parse(l)
      );
      break;
    }
    const final = lines.at(-1);
    assert.equal(final?.type, "batch");
    assert.equal(final?.batch?.status, "done");
    assert.equal(final?.batch?.counts.succeeded, 8);
    const perPrompt = requestsPerPrompt(fake.requests, "inflight");
    assert.deepEqual(
      [...perPrompt.entries()],
      Array.from({ length: 8 }, (_, i) => [i, 1]),
      "0 wasted images: each prompt was requested exactly once",
    );
    const files = [...Deno.readDirSync(join(dataDir, "images", id))].map((e) =>
      e.name
    );
    assert.equal(files.filter((f) => f.endsWith(".png")).length, 8);
    // The four the orphan saved are priced too: their usage events went to
    // a dead server, the generator's journal kept them.
    const record = await (await fetch(`${url}/api/batches/${id}`, {
      headers: { cookie },
    })).json();
    const costs = record.items.map((item: { costUsd: number | null }) =>
      item.costUsd
    );
    assert.ok(
      costs.every((cost: number | null) => cost !== null && cost > 0),
      `every image priced: ${JSON.stringify(costs)}`,
    );
    assert.ok(
      !files.includes("usage.jsonl"),
      "the journal was read and removed",
    );
  } finally {
    await stopServer(server, dataDir);
  }
});

Deno.test("[shutdown] SIGTERM mid-batch stops the run, keeps what was saved and says so", async () => {
  await using fake = startFakeGemini({ latencyMs: 300 });
  const dataDir = await Deno.makeTempDir({ prefix: "batchgen-term-" });
  const { env, url } = serverEnv(dataDir, fake.url);
  let server = startServer(env);
  try {
    await waitForServer(url);
    const { id, cookie, reader } = await createAndRun(url, "term", 10, 1);
    let text = "";
    while (!text.includes('"image-saved"')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    server.kill("SIGTERM");
    assert.equal((await server.status).code, 0, "a clean exit");
    await reader.cancel().catch(() => {});

    server = startServer(env);
    await waitForServer(url);
    const after =
      await (await fetch(`${url}/api/batches/${id}`, { headers: { cookie } }))
        .json();
    assert.equal(after.status, "interrupted");
    assert.match(after.statusMessage, /BatchGen was stopped/);
    assert.ok(after.counts.succeeded >= 1);
    assert.ok(
      after.items.every((i: { status: string }) =>
        ["succeeded", "interrupted"].includes(i.status)
      ),
    );
  } finally {
    await stopServer(server, dataDir);
  }
});
