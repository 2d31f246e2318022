/**
 * [basic-auth] Optional `BATCHGEN_BASIC_AUTH=user:password`: when set, every
 * route (pages, API, images, static assets, /metrics, 404s) answers 401
 * with `WWW-Authenticate` unless the request carries those credentials;
 * only the load balancer's /healthz and /readyz stay open
 * (tests/ops_test.ts).
 */
import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../config.ts";
import { startTestApp, TEST_KEY } from "./_helpers.ts";
import { findKeyMaterial } from "./_key_leaks.ts";

const USER = "alice";
const PASSWORD = "s3cret:pass-phrase";
const GOOD = `Basic ${btoa(`${USER}:${PASSWORD}`)}`;
const WRONG = `Basic ${btoa(`${USER}:not-the-password`)}`;

Deno.test("[basic-auth] config: user:password is parsed (the password may hold ':'); bad shapes stop the start without echoing the value", () => {
  assert.deepEqual(
    loadConfig({ BATCHGEN_BASIC_AUTH: `${USER}:${PASSWORD}` }).basicAuth,
    { username: USER, password: PASSWORD },
  );
  assert.equal(loadConfig({}).basicAuth, undefined);
  assert.equal(loadConfig({ BATCHGEN_BASIC_AUTH: "" }).basicAuth, undefined);
  for (
    const bad of [
      "alice",
      ":password123",
      "alice:",
      "alice:short",
      "alice:pass\nword123",
      "al\tice:password123",
    ]
  ) {
    assert.throws(
      () => loadConfig({ BATCHGEN_BASIC_AUTH: bad }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(
          error.message,
          /BATCHGEN_BASIC_AUTH: must be user:password .*at least 8 characters/,
        );
        const password = bad.split(":")[1];
        if (password && password.length > 2) {
          assert.ok(!error.message.includes(password), "the value was echoed");
        }
        return true;
      },
      JSON.stringify(bad),
    );
  }
});

Deno.test("[basic-auth] every route asks for the credentials: 401 + WWW-Authenticate, secure headers, no cookie, no Google call", async () => {
  await using t = await startTestApp({
    env: { BATCHGEN_BASIC_AUTH: `${USER}:${PASSWORD}` },
  });
  const id = "0123456789abcdefghij0123456789ab";
  const requests: [string, string, RequestInit?][] = [
    ["GET", "/"],
    ["HEAD", "/"],
    ["GET", "/key"],
    ["GET", "/history"],
    ["GET", `/batches/${id}`],
    ["GET", `/batches/${id}/download.zip`],
    ["GET", "/batches/options?model=x"],
    ["GET", "/static/app.css"],
    ["GET", "/static/htmx.min.js"],
    ["GET", `/images/${id}/0001.png`],
    ["GET", "/no/such/page"],
    ["POST", "/keys/validate", {
      body: new URLSearchParams({ apiKey: TEST_KEY }),
    }],
    ["POST", "/batches", { body: new URLSearchParams({ prompts: "a" }) }],
    ["POST", `/batches/${id}/run`, {
      body: new URLSearchParams({ apiKey: TEST_KEY }),
    }],
    ["GET", "/api/batches"],
    ["GET", `/api/batches/${id}`],
    ["POST", "/api/keys/validate", { headers: { "x-goog-api-key": TEST_KEY } }],
    [
      "POST",
      "/api/batches",
      {
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          prompts: ["a"],
          model: "gemini-nano-banana-2.1",
        }),
      },
    ],
    ["DELETE", `/api/batches/${id}`],
    ["GET", "/api/no-such-route"],
  ];
  let client = 0;
  for (const authorization of [undefined, WRONG, "Bearer abc", "Basic !!!"]) {
    for (const [method, path, init = {}] of requests) {
      const headers = new Headers(init.headers);
      if (authorization) headers.set("authorization", authorization);
      // A client each: wrong passwords are throttled per client (below).
      const remote = `198.51.100.${++client}`;
      const response = await t.request(path, {
        ...init,
        method,
        headers,
        remote,
      });
      const label = `${method} ${path} (${authorization ?? "no credentials"})`;
      const body = await response.text();
      assert.equal(response.status, 401, `${label}: ${body.slice(0, 200)}`);
      assert.equal(
        response.headers.get("www-authenticate"),
        'Basic realm="BatchGen"',
        label,
      );
      assert.equal(response.headers.get("set-cookie"), null, label);
      assert.equal(response.headers.get("cache-control"), "no-store", label);
      assert.match(
        response.headers.get("content-security-policy") ?? "",
        /frame-ancestors 'none'/,
        label,
      );
      assert.equal(findKeyMaterial(body, TEST_KEY), undefined, label);
      if (method === "HEAD") continue;
      if (path.startsWith("/api/")) {
        const json = JSON.parse(body);
        assert.equal(json.error.code, "unauthorized", label);
        assert.match(json.error.message, /user name and password/, label);
      } else {
        assert.match(body, /user name and password/, label);
      }
    }
  }
  assert.equal(
    t.fake.requests.length,
    0,
    "Google was called without credentials",
  );
  assert.equal(t.deps.activeRuns.size, 0);
});

Deno.test("[basic-auth] with the credentials everything works as before; scripts keep the workspace in a cookie jar", async () => {
  await using t = await startTestApp({
    env: { BATCHGEN_BASIC_AUTH: `${USER}:${PASSWORD}` },
  });
  const auth = { authorization: GOOD };
  const home = await t.request("/", { headers: auth });
  assert.equal(home.status, 200);
  assert.match(await home.text(), /id="api-key"/);
  const cookie = home.headers.get("set-cookie")?.split(";")[0] ?? "";
  assert.match(cookie, /^batchgen_workspace=/);
  const css = await t.request("/static/app.css", { headers: auth });
  assert.equal(css.status, 200);
  await css.body?.cancel();

  const validate = await t.request("/api/keys/validate", {
    method: "POST",
    headers: { ...auth, "x-goog-api-key": TEST_KEY },
  });
  assert.equal(validate.status, 200, await validate.text());

  const created = await t.request("/api/batches", {
    method: "POST",
    headers: { ...auth, cookie, "content-type": "application/json" },
    body: JSON.stringify({
      prompts: ["a puffin"],
      model: "gemini-nano-banana-2.1",
    }),
  });
  assert.equal(created.status, 201);
  const { id } = await created.json();
  const record = await t.request(`/api/batches/${id}`, {
    headers: { ...auth, cookie },
  });
  assert.equal(record.status, 200);
  assert.equal((await record.json()).id, id);
  const missing = await t.request("/no/such/page", { headers: auth });
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
});

Deno.test("[basic-auth] wrong passwords are throttled per client: after 10 a minute, 429 with Retry-After, even for the right one", async () => {
  await using t = await startTestApp({
    env: { BATCHGEN_BASIC_AUTH: `${USER}:${PASSWORD}` },
  });
  const get = (authorization?: string, remote = "198.51.100.7") =>
    t.request("/history", {
      headers: authorization ? { authorization } : {},
      remote,
    });
  // Asking without credentials (every browser's first request) is no try.
  for (let i = 0; i < 12; i++) {
    const first = await get();
    await first.body?.cancel();
    assert.equal(first.status, 401);
  }
  for (let i = 0; i < 10; i++) {
    const wrong = await get(WRONG);
    await wrong.body?.cancel();
    assert.equal(wrong.status, 401, `try ${i + 1}`);
  }
  const blocked = await get(GOOD);
  assert.equal(blocked.status, 429);
  assert.ok(Number(blocked.headers.get("retry-after")) > 0);
  assert.match(await blocked.text(), /Too many wrong passwords/);
  // Another client is not affected.
  const other = await get(GOOD, "198.51.100.8");
  await other.body?.cancel();
  assert.equal(other.status, 200);
});
