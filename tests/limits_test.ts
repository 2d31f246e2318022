/**
 * [limits] Per-client rate limits on key checks and run starts (429 with
 * Retry-After, on a clock the test moves) and the cap on batches running at
 * once in a workspace (409). Numbers from core/limits.ts.
 */
import assert from "node:assert/strict";
import { createApp } from "../app.ts";
import { maxRunningFor } from "../config.ts";
import type { AppDeps } from "../http/env.ts";
import type { GeneratorEvent } from "../core/protocol.ts";
import { LIMITS } from "../core/limits.ts";
import { createRateLimits } from "../http/middleware/rate_limit.ts";
import {
  createBatchViaApi,
  form,
  ORIGIN,
  startTestApp,
  TEST_KEY,
  type TestApp,
} from "./_helpers.ts";
import { findKeyMaterial } from "./_key_leaks.ts";
import {
  countRows,
  expectHtml,
  expectJson,
  newWorkspace,
  text,
} from "./_html.ts";

const MODEL = "gemini-nano-banana-2.1";

/** A generator that reports "started" and then waits until it is stopped. */
const blockingSpawn: AppDeps["spawn"] = (job, options) => {
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  options.signal?.addEventListener("abort", () => stop(), { once: true });
  if (options.signal?.aborted) stop();
  return {
    pid: 0,
    events: (async function* (): AsyncGenerator<GeneratorEvent> {
      yield { type: "started", items: job.items.length };
      await stopped;
    })(),
    exited: stopped.then(() => 0),
    kill: () => stop(),
  };
};

/** A generator that ends at once (the run start is what is measured). */
const instantSpawn: AppDeps["spawn"] = (job) => ({
  pid: 0,
  events: (async function* (): AsyncGenerator<GeneratorEvent> {
    yield { type: "started", items: job.items.length };
    yield { type: "done", succeeded: 0, failed: 0 };
  })(),
  exited: Promise.resolve(0),
  kill() {},
});

/** A second app on the same deps whose limits run on a clock the test moves. */
function appWithClock(t: TestApp, overrides: Partial<AppDeps> = {}) {
  const clock = { now: 1_750_000_000_000 };
  const app = createApp({
    ...t.deps,
    ...overrides,
    rateLimits: createRateLimits(() => clock.now),
  });
  const send = (
    path: string,
    init: RequestInit & { remote?: string } = {},
  ) => {
    const { remote = "127.0.0.1", ...rest } = init;
    const headers = new Headers(rest.headers);
    if (!headers.has("origin")) headers.set("origin", ORIGIN);
    return Promise.resolve(
      app.request(new URL(path, ORIGIN).href, { ...rest, headers }, {
        remoteAddr: { hostname: remote },
      }),
    );
  };
  return { clock, send };
}

Deno.test("[limits] key checks: page and API share 20 a minute per client, then 429 with Retry-After; Google is not called", async () => {
  await using t = await startTestApp();
  const { clock, send } = appWithClock(t);
  const pageCheck = (remote = "127.0.0.1") =>
    send("/keys/validate", {
      remote,
      method: "POST",
      body: form({ apiKey: TEST_KEY }),
    });
  const apiCheck = (remote = "127.0.0.1") =>
    send("/api/keys/validate", {
      remote,
      method: "POST",
      headers: { "x-goog-api-key": TEST_KEY },
    });
  for (let i = 0; i < LIMITS.keyChecksPerMinute; i++) {
    const response = await (i % 2 ? apiCheck() : pageCheck());
    assert.equal(response.status, 200, await response.text());
  }
  const called = t.fake.requests.length;

  clock.now += 15_000;
  const page = await pageCheck();
  assert.equal(page.headers.get("retry-after"), "45");
  assert.equal(page.headers.get("cache-control"), "no-store");
  const { doc, html } = await expectHtml(page, 429);
  const alert = doc.querySelector("p.key-bad[role=alert]");
  assert.match(
    text(alert),
    /^Too many key checks from your address: at most 20 a minute\. Try again in 45 s\.$/,
  );
  assert.equal(findKeyMaterial(html, TEST_KEY), undefined);

  const api = await apiCheck();
  assert.equal(api.headers.get("retry-after"), "45");
  const body = await expectJson(api, 429);
  assert.equal(body.error.code, "rate_limited");
  assert.equal(body.error.retryAfterSeconds, 45);
  assert.match(body.error.message, /Too many key checks.*Try again in 45 s/);
  assert.equal(
    t.fake.requests.length,
    called,
    "a refused check reached Google",
  );

  // Another client is not affected (127.0.0.0/8 is all loopback).
  assert.equal((await pageCheck("127.0.0.2")).status, 200);

  // A minute after the first checks, this client may check again.
  clock.now += 45_000;
  assert.equal((await pageCheck()).status, 200);
});

Deno.test("[limits] run starts: 30 a minute per client over page and API, then 429 (fragment for the run element, JSON for the API)", async () => {
  await using t = await startTestApp();
  const { clock, send } = appWithClock(t, { spawn: instantSpawn });
  const cookie = await newWorkspace(t);
  const { id } = await createBatchViaApi(t, {
    prompts: ["a heron"],
    model: MODEL,
  }, { cookie });
  const pageRun = () =>
    send(`/batches/${id}/run`, {
      method: "POST",
      headers: { cookie, "HX-Request": "true" },
      body: form({ apiKey: TEST_KEY }),
    });
  const apiRun = () =>
    send(`/api/batches/${id}/run`, {
      method: "POST",
      headers: { cookie, "x-goog-api-key": TEST_KEY },
    });
  for (let i = 0; i < LIMITS.runStartsPerMinute; i++) {
    const response = await (i % 2 ? apiRun() : pageRun());
    const body = await response.text();
    assert.equal(response.status, 200, `start ${i + 1}: ${body}`);
  }
  const page = await pageRun();
  assert.equal(page.headers.get("retry-after"), "60");
  const { doc } = await expectHtml(page, 429);
  const refused = doc.querySelector(`#run-ended-${id}.run-refused[role=alert]`);
  assert.ok(refused, "the run element is replaced by the refusal");
  assert.match(
    text(refused),
    /Too many runs started from your address: at most 30 a minute\. Try again in 60 s\./,
  );
  const api = await expectJson(await apiRun(), 429);
  assert.equal(api.error.code, "rate_limited");
  assert.equal(t.deps.activeRuns.size, 0, "a refused start registered a run");

  clock.now += 60_000;
  const again = await apiRun();
  assert.equal(again.status, 200);
  await again.body?.cancel();
});

Deno.test("[limits] with BATCHGEN_TRUST_PROXY the client is the address the proxy saw (last X-Forwarded-For); without it the header is ignored", async () => {
  // The first entry is whatever the client claimed; the trusted proxy
  // appends the address it saw.
  const proxyHeaders = (client: string) => ({
    "x-forwarded-proto": "https",
    "x-forwarded-for": `198.18.0.1, ${client}`,
    "x-goog-api-key": TEST_KEY,
  });
  {
    await using t = await startTestApp({ env: { BATCHGEN_TRUST_PROXY: "1" } });
    const { send } = appWithClock(t);
    const check = (client: string) =>
      send("/api/keys/validate", {
        method: "POST",
        remote: "10.0.0.2",
        headers: proxyHeaders(client),
      });
    for (let i = 0; i < LIMITS.keyChecksPerMinute; i++) {
      assert.equal((await check("203.0.113.9")).status, 200);
    }
    assert.equal((await check("203.0.113.9")).status, 429);
    assert.equal((await check("198.51.100.7")).status, 200, "another client");
  }
  {
    await using t = await startTestApp();
    const { send } = appWithClock(t);
    const check = (client: string) =>
      send("/api/keys/validate", {
        method: "POST",
        remote: "127.0.0.1",
        headers: proxyHeaders(client),
      });
    for (let i = 0; i < LIMITS.keyChecksPerMinute; i++) {
      // Proxy headers without BATCHGEN_TRUST_PROXY: the key is refused (K7)…
      assert.equal((await check(`203.0.113.${i}`)).status, 403);
    }
    // …and a forged X-Forwarded-For does not buy a fresh allowance.
    assert.equal((await check("198.51.100.7")).status, 429);
  }
});

Deno.test("[limits] at most 3 batches run at once per workspace: the 4th is a 409 with a message, other workspaces unaffected", async () => {
  await using t = await startTestApp();
  t.deps.spawn = blockingSpawn;
  const cookie = await newWorkspace(t);
  const ids: string[] = [];
  for (let i = 0; i < LIMITS.runningBatchesPerWorkspace + 1; i++) {
    ids.push(
      (await createBatchViaApi(t, { prompts: [`bird ${i}`], model: MODEL }, {
        cookie,
      })).id,
    );
  }
  const apiRun = (id: string, jar = cookie) =>
    t.request(`/api/batches/${id}/run`, {
      method: "POST",
      headers: { cookie: jar, "x-goog-api-key": TEST_KEY },
    });
  const streams: Response[] = [];
  for (const id of ids.slice(0, LIMITS.runningBatchesPerWorkspace)) {
    const response = await apiRun(id);
    assert.equal(response.status, 200);
    streams.push(response);
  }
  const last = ids.at(-1)!;
  const api = await expectJson(await apiRun(last), 409);
  assert.equal(api.error.code, "too_many_running");
  assert.match(
    api.error.message,
    /At most 3 batches can run at once in a workspace\. Wait for one to finish or cancel it/,
  );
  const page = await t.request(`/batches/${last}/run`, {
    method: "POST",
    headers: { cookie, "HX-Request": "true" },
    body: form({ apiKey: TEST_KEY }),
  });
  const { doc } = await expectHtml(page, 409);
  assert.match(
    text(doc.querySelector(`#run-ended-${last}.run-refused`)),
    /At most 3 batches can run at once/,
  );
  assert.equal(t.deps.activeRuns.has(last), false);

  // Another workspace may run its own batch meanwhile.
  const other = await newWorkspace(t);
  const { id: otherId } = await createBatchViaApi(t, {
    prompts: ["a wren"],
    model: MODEL,
  }, { cookie: other });
  const otherRun = await apiRun(otherId, other);
  assert.equal(otherRun.status, 200);

  // Cancelling one frees a place.
  const cancel = await t.request(`/api/batches/${ids[0]}/cancel`, {
    method: "POST",
    headers: { cookie },
  });
  assert.equal(cancel.status, 202);
  await streams[0]!.text();
  const fourth = await apiRun(last);
  assert.equal(fourth.status, 200);

  t.deps.activeRuns.abortAll();
  for (const response of [...streams.slice(1), otherRun, fourth]) {
    await response.text();
  }
  assert.equal(t.deps.activeRuns.size, 0);
});

Deno.test("[limits] concurrent run starts in one workspace never exceed the cap", async () => {
  await using t = await startTestApp();
  t.deps.spawn = blockingSpawn;
  const cookie = await newWorkspace(t);
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    ids.push(
      (await createBatchViaApi(t, { prompts: [`fish ${i}`], model: MODEL }, {
        cookie,
      })).id,
    );
  }
  const responses = await Promise.all(
    ids.map((id) =>
      t.request(`/api/batches/${id}/run`, {
        method: "POST",
        headers: { cookie, "x-goog-api-key": TEST_KEY },
      })
    ),
  );
  const statuses = responses.map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, 200, 200, 409, 409, 409]);
  for (const response of responses.filter((r) => r.status === 409)) {
    assert.equal((await response.json()).error.code, "too_many_running");
  }
  t.deps.activeRuns.abortAll();
  for (const response of responses) {
    if (!response.bodyUsed) await response.text();
  }
});

Deno.test("[limits] an instance runs at most BATCHGEN_MAX_RUNNING generators, whatever the workspaces; then 503 with Retry-After", async () => {
  await using t = await startTestApp({ env: { BATCHGEN_MAX_RUNNING: "2" } });
  assert.equal(t.config.maxRunning, 2);
  assert.equal(t.deps.activeRuns.maxTotal, 2);
  t.deps.spawn = blockingSpawn;
  const run = async (cookie: string, id: string) =>
    await t.request(`/api/batches/${id}/run`, {
      method: "POST",
      headers: { cookie, "x-goog-api-key": TEST_KEY },
    });
  const streams: Response[] = [];
  // Three fresh workspaces from one address: the per-workspace cap alone
  // would let each run.
  const runs: { cookie: string; id: string }[] = [];
  for (let i = 0; i < 3; i++) {
    const cookie = await newWorkspace(t);
    const { id } = await createBatchViaApi(t, {
      prompts: [`gull ${i}`],
      model: MODEL,
    }, { cookie });
    runs.push({ cookie, id });
  }
  for (const { cookie, id } of runs.slice(0, 2)) {
    const response = await run(cookie, id);
    assert.equal(response.status, 200);
    streams.push(response);
  }
  const third = runs[2]!;
  const refused = await run(third.cookie, third.id);
  const body = await expectJson(refused, 503);
  assert.equal(body.error.code, "server_busy");
  assert.match(body.error.message, /maximum of 2 batches at once/);
  assert.equal(refused.headers.get("retry-after"), "30");
  const page = await t.request(`/batches/${third.id}/run`, {
    method: "POST",
    headers: { cookie: third.cookie, "HX-Request": "true" },
    body: form({ apiKey: TEST_KEY }),
  });
  const { doc } = await expectHtml(page, 503);
  assert.match(
    text(doc.querySelector(`#run-ended-${third.id}.run-refused`)),
    /BATCHGEN_MAX_RUNNING/,
  );
  t.deps.activeRuns.abortAll();
  for (const response of streams) await response.text();
});

Deno.test("[limits] BATCHGEN_MAX_RUNNING defaults to what the machine's memory holds", () => {
  const GiB = 1024 ** 3;
  // One lean generator per 112 MiB after 1 GiB kept for the server.
  assert.equal(maxRunningFor(0), 2);
  assert.equal(maxRunningFor(1 * GiB), 2);
  assert.equal(maxRunningFor(2 * GiB), 9);
  assert.equal(maxRunningFor(8 * GiB), 64);
  // A 24 GiB box (23.5 GiB reported) runs 200 batches at once.
  assert.equal(maxRunningFor(25_276_510_208), 206);
  assert.equal(maxRunningFor(1024 * GiB), LIMITS.maxRunning);
});

Deno.test("[limits] new batches: page and API share 60 a minute per client, then 429; nothing is stored", async () => {
  await using t = await startTestApp();
  const { clock, send } = appWithClock(t);
  const create = () =>
    send("/api/batches", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompts: ["a tern"], model: MODEL }),
    });
  for (let i = 0; i < LIMITS.batchCreatesPerMinute; i++) {
    const response = await create();
    await response.body?.cancel();
    assert.equal(response.status, 201, `batch ${i + 1}`);
  }
  const api = await expectJson(await create(), 429);
  assert.equal(api.error.code, "rate_limited");
  const page = await send("/batches", {
    method: "POST",
    body: form({ prompts: "a tern", model: MODEL }),
  });
  assert.equal(page.status, 429);
  assert.match(await page.text(), /Too many new batches/);
  assert.equal(await countRows(t, "batches"), LIMITS.batchCreatesPerMinute);
  clock.now += 61_000;
  const later = await create();
  await later.body?.cancel();
  assert.equal(later.status, 201);
});
