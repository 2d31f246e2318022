/**
 * [ops] Operations (issue 14 part 3): `/healthz`, `/readyz` and `/metrics`
 * (open probes, metrics behind Basic auth, never a workspace cookie), the
 * metrics' values after a run against the fake, and JSON log lines with a
 * request id that never carry the key.
 */
import assert from "node:assert/strict";
import type { Client } from "@libsql/client";
import { startTestApp, TEST_KEY, type TestApp } from "./_helpers.ts";
import { createBatch, runToEnd, startRun } from "./_engine.ts";
import { findKeyMaterial } from "./_key_leaks.ts";
import { Metrics } from "../lib/metrics.ts";

const USER = "ops";
const PASSWORD = "probe-password-1";
const GOOD = `Basic ${btoa(`${USER}:${PASSWORD}`)}`;
const UUID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** As main.ts does before serving: the data folders exist. */
async function withDataFolders(t: TestApp): Promise<TestApp> {
  await Deno.mkdir(t.config.imagesDir, { recursive: true });
  await Deno.mkdir(t.config.referencesDir, { recursive: true });
  return t;
}

function closeDb(t: TestApp) {
  (t.deps.db as unknown as { $client: Client }).$client.close();
}

async function readyz(t: TestApp, init: RequestInit = {}) {
  const response = await t.request("/readyz", init);
  assert.equal(response.headers.get("set-cookie"), null);
  assert.match(response.headers.get("content-type") ?? "", /application\/json/);
  return { status: response.status, body: await response.json() };
}

/** `name{labels} value` lines of the exposition, by series. */
function parseMetrics(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    series.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return series;
}

async function scrape(t: TestApp, headers: HeadersInit = {}) {
  const response = await t.request("/metrics", { headers });
  assert.equal(response.status, 200);
  assert.equal(
    response.headers.get("content-type"),
    "text/plain; version=0.0.4; charset=utf-8",
  );
  assert.equal(response.headers.get("set-cookie"), null);
  const text = await response.text();
  return { text, values: parseMetrics(text) };
}

Deno.test("[ops] /healthz answers 200 { ok: true } without touching the DB, with no cookie and a request id", async () => {
  await using t = await startTestApp();
  closeDb(t);
  const started = performance.now();
  const response = await t.request("/healthz");
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { ok: true });
  assert.ok(performance.now() - started < 500);
  assert.equal(response.headers.get("set-cookie"), null);
  assert.equal(response.headers.get("cache-control"), "no-store");
  assert.match(response.headers.get("x-request-id") ?? "", UUID);
  const head = await t.request("/healthz", { method: "HEAD" });
  assert.equal(head.status, 200);
});

Deno.test("[ops] /readyz: 200 when every check passes; 503 naming the failing one (DB closed, images not writable, disk under the threshold)", async (s) => {
  await s.step("ready", async () => {
    await using t = await withDataFolders(await startTestApp());
    const { status, body } = await readyz(t);
    assert.equal(status, 200);
    assert.deepEqual(body, {
      ok: true,
      checks: { database: "ok", images: "ok", disk: "ok" },
    });
    // The write probe leaves nothing behind.
    const left = [];
    for await (const entry of Deno.readDir(t.config.imagesDir)) {
      left.push(entry.name);
    }
    assert.deepEqual(left, []);
  });

  await s.step("the database is closed", async () => {
    await using t = await withDataFolders(await startTestApp());
    assert.equal((await readyz(t)).status, 200);
    closeDb(t);
    const { status, body } = await readyz(t);
    assert.equal(status, 503);
    assert.deepEqual(body.failing, ["database"]);
    assert.equal(body.ok, false);
    assert.equal(body.checks.database, "the database does not answer");
    assert.equal(body.checks.images, "ok");
    // Logged once when readiness changes, with the cause; not per probe.
    await readyz(t);
    const notReady = t.logs.filter((l) => l.includes('"not ready"'));
    assert.equal(notReady.length, 1);
    assert.match(notReady[0]!, /"details":\{"database":"[^"]*CLIENT_CLOSED/);
  });

  await s.step("the image folder is not writable", async () => {
    await using t = await withDataFolders(await startTestApp());
    if (Deno.uid() !== 0) {
      // Modes stop a normal user; root writes anyway (next case).
      await Deno.chmod(t.config.imagesDir, 0o500);
      const { status, body } = await readyz(t);
      await Deno.chmod(t.config.imagesDir, 0o755);
      assert.equal(status, 503);
      assert.deepEqual(body.failing, ["images"]);
    }
    // Gone, and a file in its place: no user can write into it.
    await Deno.remove(t.config.imagesDir, { recursive: true });
    await Deno.writeTextFile(t.config.imagesDir, "not a folder");
    const { status, body } = await readyz(t);
    assert.equal(status, 503);
    assert.deepEqual(body.failing, ["images"]);
    assert.equal(body.checks.images, "the image folder is not writable");
    assert.equal(body.checks.database, "ok");
    // No path of the server in the open answer.
    assert.ok(!JSON.stringify(body).includes(t.dataDir));
  });

  await s.step("free disk below BATCHGEN_MIN_FREE_DISK_MB", async () => {
    await using t = await withDataFolders(
      await startTestApp({
        env: { BATCHGEN_MIN_FREE_DISK_MB: String(2 ** 40) }, // 1 EiB
      }),
    );
    const { status, body } = await readyz(t);
    assert.equal(status, 503);
    assert.deepEqual(body.failing, ["disk"]);
    assert.match(
      body.checks.disk,
      /^\d+ MB free in the data folder, below the minimum of 1099511627776 MB \(BATCHGEN_MIN_FREE_DISK_MB\)$/,
    );
  });

  await s.step("every check fails at once", async () => {
    await using t = await startTestApp({
      env: { BATCHGEN_MIN_FREE_DISK_MB: String(2 ** 40) },
    });
    closeDb(t); // and the images folder was never made
    const { status, body } = await readyz(t);
    assert.equal(status, 503);
    assert.deepEqual(body.failing, ["database", "disk", "images"]);
  });
});

Deno.test("[ops] with Basic auth: /healthz and /readyz stay open, /metrics asks for the password; none sets a workspace cookie", async () => {
  await using t = await withDataFolders(
    await startTestApp({
      env: { BATCHGEN_BASIC_AUTH: `${USER}:${PASSWORD}` },
    }),
  );
  assert.equal((await t.request("/healthz")).status, 200);
  assert.equal((await readyz(t)).status, 200);
  const asked = await t.request("/metrics");
  assert.equal(asked.status, 401);
  assert.match(asked.headers.get("www-authenticate") ?? "", /^Basic/);
  assert.equal(asked.headers.get("set-cookie"), null);
  const wrong = await t.request("/metrics", {
    headers: { authorization: `Basic ${btoa(`${USER}:nope-nope-nope`)}` },
  });
  assert.equal(wrong.status, 401);
  const { values } = await scrape(t, { authorization: GOOD });
  assert.equal(values.get("batchgen_runs_active"), 0);
  // The rest of the app still asks, and still starts workspaces.
  assert.equal((await t.request("/")).status, 401);
  const page = await t.request("/", { headers: { authorization: GOOD } });
  assert.equal(page.status, 200);
  assert.ok(page.headers.get("set-cookie"));
});

Deno.test("[ops] /metrics after a run against the fake: runs, images by outcome, Google requests by outcome, 429s, retries, bytes, latency by route", async () => {
  await using t = await withDataFolders(
    await startTestApp({ fake: { latencyMs: 50 } }),
  );
  const before = (await scrape(t)).values;
  for (
    const [series, value] of [
      ["batchgen_runs_active", 0],
      ["batchgen_runs_started_total", 0],
      ['batchgen_images_total{outcome="saved"}', 0],
      ['batchgen_images_total{outcome="failed"}', 0],
      ['batchgen_images_total{outcome="blocked"}', 0],
      ["batchgen_image_bytes_stored_total", 0],
      ["batchgen_google_rate_limited_total", 0],
      ["batchgen_google_retries_total", 0],
      ['batchgen_google_requests_total{outcome="ok"}', 0],
    ] as const
  ) assert.equal(before.get(series), value, series);

  const batch = await createBatch(t, [
    "a red fox [slow:300]",
    "a shy owl [block:IMAGE_SAFETY]",
    "a kite [fail-once:503]",
    "a snail [fail-once:429]",
    "a ship [status:400]",
  ], { concurrency: 5 });
  // While the run goes on, it is active.
  const run = await startRun(t, batch);
  const during = (await scrape(t)).values;
  assert.equal(during.get("batchgen_runs_active"), 1);
  assert.equal(during.get("batchgen_runs_started_total"), 1);
  // Read to its end: a client that goes away stops the run.
  await run.text();
  assert.equal(t.deps.activeRuns.size, 0, "the run ended");
  const record = await (await t.request(`/api/batches/${batch.id}`, {
    headers: { cookie: batch.cookie },
  })).json();
  const after = (await scrape(t)).values;

  const failedKind =
    record.items.find((i: { prompt: string }) =>
      i.prompt.includes("[status:400]")
    ).errorKind;
  assert.equal(failedKind, "invalid-request");
  const bytes = record.items.reduce(
    (sum: number, i: { image: { bytes: number } | null }) =>
      sum + (i.image?.bytes ?? 0),
    0,
  );
  assert.ok(bytes > 0);
  const expected: [string, number][] = [
    ["batchgen_runs_active", 0],
    ["batchgen_runs_started_total", 1],
    ['batchgen_images_total{outcome="saved"}', 3],
    ['batchgen_images_total{outcome="failed"}', 1],
    ['batchgen_images_total{outcome="blocked"}', 1],
    ["batchgen_image_bytes_stored_total", bytes],
    ["batchgen_google_rate_limited_total", 1],
    ["batchgen_google_retries_total", 2],
    ['batchgen_google_requests_total{outcome="ok"}', 3],
    ['batchgen_google_requests_total{outcome="rate-limited"}', 1],
    ['batchgen_google_requests_total{outcome="retried"}', 1],
    ['batchgen_google_requests_total{outcome="blocked"}', 1],
    ['batchgen_google_requests_total{outcome="invalid-request"}', 1],
  ];
  for (const [series, value] of expected) {
    assert.equal(after.get(series), value, series);
  }
  // Every request the fake answered is counted once, by its outcome.
  const requests = [...after].filter(([s]) =>
    s.startsWith("batchgen_google_requests_total")
  ).reduce((sum, [, v]) => sum + v, 0);
  assert.equal(requests, t.fake.stats().generate);
  assert.equal(t.fake.stats().byStatus[429], 1);

  // A second run, from the page's SSE route, counts too.
  const again = await createBatch(t, ["a calm sea"]);
  const page = await t.request(`/batches/${again.id}/run`, {
    method: "POST",
    headers: { cookie: again.cookie, "hx-request": "true" },
    body: new URLSearchParams({ apiKey: TEST_KEY }),
  });
  assert.equal(page.status, 200);
  await page.text();
  const last = (await scrape(t)).values;
  assert.equal(last.get("batchgen_runs_started_total"), 2);
  assert.equal(last.get('batchgen_images_total{outcome="saved"}'), 4);
  assert.equal(last.get('batchgen_google_requests_total{outcome="ok"}'), 4);

  // Latency by route pattern (never the raw path), method and status.
  await t.request(`/batches/${batch.id}`, {
    headers: { cookie: batch.cookie },
  });
  await t.request("/no/such/page");
  const { text } = await scrape(t);
  const count = (labels: string) =>
    parseMetrics(text).get(
      `batchgen_http_request_duration_seconds_count{${labels}}`,
    );
  assert.equal(count('method="POST",route="/api/batches",status="201"'), 2);
  assert.equal(
    count('method="POST",route="/api/batches/:id/run",status="200"'),
    1,
  );
  assert.equal(count('method="POST",route="/batches/:id/run",status="200"'), 1);
  assert.equal(count('method="GET",route="/batches/:id",status="200"'), 1);
  assert.equal(count('method="GET",route="(unmatched)",status="404"'), 1);
  // Four scrapes before this one (which counts once it has answered).
  assert.equal(count('method="GET",route="/metrics",status="200"'), 4);
  assert.ok(!text.includes(batch.id), "no batch id in any label");
  assert.match(
    text,
    /batchgen_http_request_duration_seconds_bucket\{method="GET",route="\/metrics",status="200",le="\+Inf"\} 4\n/,
  );
  assert.match(text, /# TYPE batchgen_http_request_duration_seconds histogram/);
  assert.ok(!findKeyMaterial(text, TEST_KEY));
});

Deno.test("[ops] BATCHGEN_LOG_FORMAT=json: every line is one JSON object; a request's lines carry its id (kept from X-Request-Id when sane), never the key", async () => {
  await using t = await withDataFolders(
    await startTestApp({ env: { BATCHGEN_LOG_FORMAT: "json" } }),
  );
  const batch = await createBatch(t, ["a red fox", "a shy owl [status:500]"]);
  const run = await t.request(`/api/batches/${batch.id}/run`, {
    method: "POST",
    headers: {
      cookie: batch.cookie,
      "x-goog-api-key": TEST_KEY,
      "x-request-id": "trace-7f3a.run:1",
    },
  });
  assert.equal(run.headers.get("x-request-id"), "trace-7f3a.run:1");
  await run.text();

  // An error while serving: logged with its request's id.
  closeDb(t);
  const failed = await t.request("/history", {
    headers: { cookie: batch.cookie, "x-request-id": "trace-failing" },
  });
  assert.equal(failed.status, 500);
  assert.equal(failed.headers.get("x-request-id"), "trace-failing");

  const entries = t.logs.map((line) => JSON.parse(line));
  for (const entry of entries) {
    assert.equal(typeof entry.time, "string");
    assert.match(entry.level, /^(debug|info|warn|error)$/);
    assert.equal(typeof entry.message, "string");
  }
  const ofRun = entries.filter((e) => e.batchId === batch.id);
  assert.deepEqual(
    ofRun.map((e) => e.message).filter((m) => m.startsWith("run ")),
    ["run started", "run ended"],
  );
  for (const entry of ofRun) assert.equal(entry.requestId, "trace-7f3a.run:1");
  const error = entries.find((e) => e.message === "request failed");
  assert.equal(error?.requestId, "trace-failing");
  assert.equal(error?.path, "/history");

  for (const [i, line] of t.logs.entries()) {
    assert.equal(findKeyMaterial(line, TEST_KEY), undefined, `log line ${i}`);
  }
});

Deno.test("[ops] X-Request-Id: a plain token is echoed; anything else (too long, odd characters, key-shaped) gets a fresh id", async () => {
  await using t = await startTestApp();
  const idOf = async (incoming?: string) =>
    (await t.request("/healthz", {
      headers: incoming === undefined ? {} : { "x-request-id": incoming },
    })).headers.get("x-request-id") ?? "";
  assert.equal(await idOf("abc-123_X.y:z"), "abc-123_X.y:z");
  assert.match(await idOf(), UUID);
  for (
    const bad of ["x".repeat(65), "a b", "<script>", "a\u00e9", TEST_KEY]
  ) {
    const echoed = await idOf(bad);
    assert.match(echoed, UUID, JSON.stringify(bad));
  }
  // On every answer, refusals and 404s included.
  const refused = await t.request("/healthz", {
    headers: { host: "evil.example", "x-request-id": "r-421" },
  });
  assert.equal(refused.status, 421);
  assert.equal(refused.headers.get("x-request-id"), "r-421");
  const missing = await t.request("/no/such/page", {
    headers: { "x-request-id": "r-404" },
  });
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get("x-request-id"), "r-404");
});

Deno.test("[ops] text logs stay as they were: no request id, same keys", async () => {
  await using t = await startTestApp();
  const batch = await createBatch(t, ["a red fox"]);
  await runToEnd(t, batch);
  const started = t.logs.map((l) => JSON.parse(l)).find((e) =>
    e.message === "run started"
  );
  assert.ok(started);
  assert.deepEqual(Object.keys(started), [
    "time",
    "level",
    "message",
    "batchId",
    "items",
    "pid",
  ]);
});

Deno.test("[ops] metrics: a run's events by outcome, a stopped run's open requests included", async () => {
  const metrics = new Metrics({ runsActive: () => 2, runsMax: 8 });
  const seen: string[] = [];
  const onUpdate = metrics.trackRun<{ event: { type: string } }>(
    ({ event }) => {
      seen.push(event.type);
    },
  );
  const events = [
    { type: "started", items: 4 },
    { type: "item-started", itemId: "a", attempt: 1 },
    { type: "item-started", itemId: "b", attempt: 1 },
    { type: "item-started", itemId: "c", attempt: 1 },
    { type: "item-started", itemId: "d", attempt: 1 },
    { type: "rate-limited", retryAfterMs: 1000 },
    { type: "item-started", itemId: "a", attempt: 2 }, // a's 429
    { type: "item-started", itemId: "b", attempt: 2 }, // b's 503
    {
      type: "image-saved",
      itemId: "a",
      fileName: "0001-1.png",
      mimeType: "image/png",
      bytes: 1234,
      sha256: "0".repeat(64),
    },
    {
      type: "usage",
      itemId: "a",
      promptTokens: 1,
      outputTokens: 1,
      imageTokens: 1,
      thoughtTokens: 0,
    },
    { type: "batch-stopped", kind: "auth", message: "key rejected" },
    { type: "finished" },
  ];
  for (const event of events) await onUpdate({ event });
  assert.equal(seen.length, events.length, "every event reaches the caller");
  const values = parseMetrics(metrics.render());
  const expected: [string, number][] = [
    ["batchgen_runs_active", 2],
    ["batchgen_runs_max", 8],
    ["batchgen_runs_started_total", 1],
    ['batchgen_images_total{outcome="saved"}', 1],
    ["batchgen_image_bytes_stored_total", 1234],
    ["batchgen_google_rate_limited_total", 1],
    ["batchgen_google_retries_total", 2],
    ['batchgen_google_requests_total{outcome="ok"}', 1],
    ['batchgen_google_requests_total{outcome="rate-limited"}', 1],
    ['batchgen_google_requests_total{outcome="retried"}', 1],
    // b (2nd attempt), c and d were open: one stopped the batch.
    ['batchgen_google_requests_total{outcome="auth"}', 1],
    ['batchgen_google_requests_total{outcome="unanswered"}', 2],
  ];
  for (const [series, value] of expected) {
    assert.equal(values.get(series), value, series);
  }
});

Deno.test("[ops] metrics: the exposition text is valid Prometheus 0.0.4 (escaped labels, cumulative buckets)", () => {
  const metrics = new Metrics({ runsActive: () => 0 });
  const route = 'odd "route"\\with\nnewline';
  metrics.observeHttp({ method: "GET", route, status: 200 }, 0.003);
  metrics.observeHttp({ method: "GET", route, status: 200 }, 0.2);
  metrics.observeHttp({ method: "GET", route, status: 200 }, 100);
  const text = metrics.render();
  assert.ok(text.endsWith("\n"));
  assert.ok(!text.includes("batchgen_runs_max"), "no maximum, no gauge");
  const labels =
    'method="GET",route="odd \\"route\\"\\\\with\\nnewline",status="200"';
  const values = parseMetrics(text);
  const bucket = (le: string) =>
    values.get(
      `batchgen_http_request_duration_seconds_bucket{${labels},le="${le}"}`,
    );
  assert.equal(bucket("0.005"), 1);
  assert.equal(bucket("0.1"), 1);
  assert.equal(bucket("0.25"), 2);
  assert.equal(bucket("60"), 2);
  assert.equal(bucket("+Inf"), 3);
  assert.equal(
    values.get(`batchgen_http_request_duration_seconds_count{${labels}}`),
    3,
  );
  assert.equal(
    values.get(`batchgen_http_request_duration_seconds_sum{${labels}}`),
    100.203,
  );
  // Every line: a comment, or `name{labels} number`; each metric's HELP
  // and TYPE come before its samples.
  const typed = new Set<string>();
  for (const line of text.trimEnd().split("\n")) {
    const type = /^# TYPE (\w+) (counter|gauge|histogram)$/.exec(line);
    if (type) {
      typed.add(type[1]!);
      continue;
    }
    if (line.startsWith("# HELP ")) continue;
    const sample = /^(\w+?)(_bucket|_sum|_count)?(\{.*\})? (\S+)$/.exec(line);
    assert.ok(sample, line);
    const [, base, suffix = ""] = sample;
    assert.ok(
      typed.has(base!) || typed.has(base! + suffix),
      `TYPE before ${line}`,
    );
    assert.ok(!Number.isNaN(Number(sample[4])), line);
  }
});
