/**
 * Key invariants K1, K2 (server side), K7, K8 and K9 (design.md §1), each
 * with a test that fails if the invariant breaks. K4/K6 are in
 * key_invariants_process_test.ts, K5 in key_invariants_scrub_test.ts, and the
 * byte-level leak canary in leak_canary_test.ts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  createBatchViaApi,
  form,
  startTestApp,
  TEST_KEY,
  TEST_KEY_OLD,
} from "./_helpers.ts";
import {
  BAD_KEY,
  dbCells,
  findKeyMaterial,
  LeakScan,
  recordingClient,
} from "./_key_leaks.ts";
import { PRICE_LIST_DATE } from "../core/cost.ts";

const MODEL = "gemini-nano-banana-2.1";
const HTMX = { "HX-Request": "true", "HX-Target": "main#main" };

Deno.test("K1 after good, failing and invalid-key runs no DB cell of any table holds key material", async () => {
  await using t = await startTestApp({ env: { BATCHGEN_MAX_ATTEMPTS: "1" } });
  const keys = [TEST_KEY, TEST_KEY_OLD, BAD_KEY];
  for (const key of keys) {
    const { id, cookie } = await createBatchViaApi(t, {
      prompts: [
        "a kestrel",
        "an owl [block:IMAGE_SAFETY]",
        "a lark [status:500]",
      ],
      model: MODEL,
    });
    await (await t.request(`/api/batches/${id}/run`, {
      method: "POST",
      headers: { "x-goog-api-key": key, cookie },
    })).text();
  }
  const cells = await dbCells(t);
  const tables = new Set(cells.map(([cell]) => cell.split(".")[0]));
  for (const table of ["batches", "items", "images"]) {
    assert.ok(tables.has(table), `no rows in ${table}: ${[...tables]}`);
  }
  const columns = new Set(cells.map(([cell]) => cell.split(" ")[0]));
  for (const column of columns) {
    assert.doesNotMatch(column!, /api_?key|gemini|secret/i, "a key column");
  }
  const scan = new LeakScan();
  for (const [cell, value] of cells) scan.add(`DB ${cell}`, value);
  scan.assertClean(keys);
});

Deno.test("K2 no response echoes the key: re-rendered forms, redirects, validation messages, pages", async () => {
  await using t = await startTestApp();
  const scan = new LeakScan();
  const c = recordingClient(t, scan);
  for (const headers of [{}, HTMX]) {
    // An invalid form that also carries the key: the 422 page re-renders it.
    const rejected = await c.send("/batches", {
      method: "POST",
      headers,
      body: form({ prompts: "", model: MODEL, apiKey: TEST_KEY }),
    });
    assert.equal(rejected.status, 422);
    assert.match(rejected.text, /at least one prompt/);
    const created = await c.send("/batches", {
      method: "POST",
      headers,
      body: form({ prompts: "a heron", model: MODEL, apiKey: TEST_KEY }),
    });
    assert.ok([201, 303].includes(created.status), created.text);
    const target = created.headers.get("location") ??
      created.headers.get("hx-push-url");
    assert.match(target ?? "", /^\/batches\/[a-z0-9]+$/);
  }
  const spaced = `${TEST_KEY.slice(0, 20)} ${TEST_KEY.slice(20)}`;
  for (const apiKey of [spaced, `${TEST_KEY}!`, TEST_KEY.slice(0, 12)]) {
    const bad = await c.send("/keys/validate", {
      method: "POST",
      body: form({ apiKey }),
    });
    assert.equal(bad.status, 400, bad.text);
    const api = await c.send("/api/keys/validate", {
      method: "POST",
      headers: { "x-goog-api-key": apiKey.replace(" ", "") + "!" },
    });
    assert.equal(api.status, 400, api.text);
  }
  const good = await c.send("/keys/validate", {
    method: "POST",
    body: form({ apiKey: TEST_KEY }),
  });
  assert.match(good.text, /Key works/);
  for (
    const path of ["/", "/history", "/key", "/nope", `/?apiKey=${TEST_KEY}`]
  ) {
    for (const headers of [{}, HTMX]) {
      const page = await c.send(path, { headers });
      for (
        const input of page.text.match(/<input[^>]*type="password"[^>]*>/g) ??
          []
      ) {
        assert.doesNotMatch(input, /\svalue=/, `${path}: ${input}`);
      }
    }
  }
  scan.assertClean([TEST_KEY]);
});

Deno.test("K7 a key over plain HTTP from a non-loopback client is refused with how to fix it; Google is never called", async () => {
  await using t = await startTestApp();
  const { id, cookie } = await createBatchViaApi(t, {
    prompts: ["a tern"],
    model: MODEL,
  });
  const keyRequests: [string, Record<string, string>, URLSearchParams?][] = [
    ["/keys/validate", {}, form({ apiKey: TEST_KEY })],
    [
      `/batches/${id}/run`,
      { "HX-Request": "true" },
      form({ apiKey: TEST_KEY }),
    ],
    ["/api/keys/validate", { "x-goog-api-key": TEST_KEY }],
    [`/api/batches/${id}/run`, { "x-goog-api-key": TEST_KEY }],
  ];
  const attempts = (remote: string, extra: Record<string, string> = {}) =>
    keyRequests.map(([path, headers, body]) => async () => {
      const response = await t.request(path, {
        remote,
        method: "POST",
        headers: { cookie, ...headers, ...extra },
        body,
      });
      return { path, status: response.status, text: await response.text() };
    });
  // A spoofed X-Forwarded-Proto is not trusted unless BATCHGEN_TRUST_PROXY is on.
  const spoofs: Record<string, string>[] = [{}, {
    "x-forwarded-proto": "https",
  }];
  for (const extra of spoofs) {
    for (const attempt of attempts("203.0.113.9", extra)) {
      const { path, status, text } = await attempt();
      assert.equal(status, 403, `${path}: ${text}`);
      assert.match(text, /plain HTTP/, path);
      assert.match(text, /HTTPS/, path);
      assert.match(text, /BATCHGEN_TLS_CERT_FILE|BATCHGEN_TRUST_PROXY/, path);
      assert.equal(findKeyMaterial(text, TEST_KEY), undefined, path);
    }
  }
  assert.equal(
    t.fake.requests.length,
    0,
    "Google was called for a refused key",
  );
  assert.equal(t.deps.activeRuns.size, 0);

  for (const attempt of attempts("127.0.0.1")) {
    const { path, status, text } = await attempt();
    assert.equal(status, 200, `${path}: loopback refused: ${text}`);
  }
  assert.ok(t.fake.requests.length > 0, "loopback should reach Google");
});

Deno.test("K8 every request to Google carries the key only in x-goog-api-key, never in the URL", async () => {
  await using t = await startTestApp();
  for (const key of [TEST_KEY, TEST_KEY_OLD]) {
    const { id, cookie } = await createBatchViaApi(t, {
      prompts: ["a wren", "a robin"],
      model: MODEL,
      imagesPerPrompt: 2,
    });
    await (await t.request("/keys/validate", {
      method: "POST",
      headers: { cookie },
      body: form({ apiKey: key }),
    })).text();
    await (await t.request(`/api/batches/${id}/run`, {
      method: "POST",
      headers: { "x-goog-api-key": key, cookie },
    })).text();
    const carrying = t.fake.requests.filter((r) =>
      JSON.stringify(r).includes(key)
    );
    assert.ok(carrying.some((r) => r.path.endsWith("/models")), "no list call");
    assert.equal(
      carrying.filter((r) => r.path.includes(":generate")).length,
      4,
    );
    for (const r of carrying) {
      assert.equal(r.headers["x-goog-api-key"], key, r.path);
      assert.ok(!r.path.includes(key), `key in path ${r.path}`);
      assert.ok(!("key" in r.query), `?key= on ${r.path}`);
      assert.ok(
        !JSON.stringify(r.query).includes(key),
        `key in query ${r.path}`,
      );
      assert.ok(
        !JSON.stringify(r.body ?? "").includes(key),
        `key in body ${r.path}`,
      );
    }
  }
});

Deno.test("K9 every cost shown is labelled an estimate, not a BatchGen charge, with the price-list date", async () => {
  await using t = await startTestApp();
  const { id, cookie } = await createBatchViaApi(t, {
    prompts: ["a gull", "a puffin"],
    model: MODEL,
  });
  await (await t.request(`/api/batches/${id}/run`, {
    method: "POST",
    headers: { "x-goog-api-key": TEST_KEY, cookie },
  })).text();
  const labelled = (where: string, text: string) => {
    assert.match(text, /estimate/i, `${where}: no "estimate"`);
    assert.match(text, /not a BatchGen charge/, `${where}: no disclaimer`);
    assert.match(
      text,
      new RegExp(`price[^.<>]{0,40}${PRICE_LIST_DATE}`, "i"),
      `${where}: no price-list date`,
    );
  };
  const get = async (path: string, init: RequestInit = {}) => {
    const response = await t.request(path, {
      ...init,
      headers: { cookie, ...init.headers },
    });
    assert.equal(response.status, 200, path);
    return await response.text();
  };
  labelled("batch page", await get(`/batches/${id}`));
  labelled("batch fragment", await get(`/batches/${id}`, { headers: HTMX }));
  labelled("history page", await get("/history"));
  labelled("history fragment", await get("/history", { headers: HTMX }));
  labelled(
    "estimate fragment",
    await get("/batches/estimate", {
      method: "POST",
      headers: { "HX-Request": "true" },
      body: form({ prompts: "a\nb", model: MODEL, imagesPerPrompt: "2" }),
    }),
  );
  const sse = await get(`/batches/${id}/run?mode=retry`, {
    method: "POST",
    headers: { "HX-Request": "true" },
    body: form({ apiKey: TEST_KEY }),
  });
  labelled("run stream", sse);

  const api = JSON.parse(await get(`/api/batches/${id}`));
  assert.ok(api.actualCostUsd > 0, "the run should have cost something");
  labelled("API costLabel", api.costLabel);
  assert.equal(api.priceListDate, PRICE_LIST_DATE);
  const list = JSON.parse(await get("/api/batches"));
  for (const b of list.batches) labelled("API list costLabel", b.costLabel);
  const manifest = JSON.parse(await get(`/api/batches/${id}/manifest.json`));
  labelled("manifest batch.cost.label", manifest.batch.cost.label);
  assert.equal(manifest.batch.cost.priceListDate, PRICE_LIST_DATE);
  const saved = JSON.parse(
    await Deno.readTextFile(join(t.config.imagesDir, id, "manifest.json")),
  );
  labelled("manifest.json on disk", saved.batch.cost.label);
});
