/**
 * [headers] Every page (full and htmx fragment, 404 included) and every
 * response that carries a key or its results (key checks, run streams over
 * SSE and NDJSON, their refusals, 429s) has the security headers: a CSP with
 * `script-src 'self'`, no unsafe-inline/eval and `frame-ancestors 'none'`,
 * `Referrer-Policy: no-referrer`, `X-Content-Type-Options: nosniff`,
 * `X-Frame-Options: DENY` and `Cache-Control: no-store`. And no served HTML
 * holds an inline script, an `on*=` handler, `hx-on` or a `javascript:` URL.
 * (tests/pages_test.ts checks the scripts of the home page in detail.)
 */
import assert from "node:assert/strict";
import { createApp } from "../app.ts";
import {
  createRateLimits,
  RateLimiter,
} from "../http/middleware/rate_limit.ts";
import {
  createBatchViaApi,
  form,
  ORIGIN,
  startTestApp,
  TEST_KEY,
  type TestApp,
} from "./_helpers.ts";
import { BAD_KEY } from "./_key_leaks.ts";
import { HTMX, newWorkspace, parse } from "./_html.ts";

const MODEL = "gemini-nano-banana-2.1";

interface Seen {
  label: string;
  status: number;
  headers: Headers;
  body: string;
}

/** Checks the headers every page and key-bearing response must have. */
function assertSecureHeaders({ label, headers }: Seen) {
  const csp = headers.get("content-security-policy") ?? "";
  const directives = new Map(
    csp.split(";").map((d) => d.trim()).filter(Boolean).map((d) => {
      const [name, ...values] = d.split(/\s+/);
      return [name!, values.join(" ")];
    }),
  );
  assert.equal(directives.get("script-src"), "'self'", `${label}: ${csp}`);
  assert.equal(directives.get("default-src"), "'self'", `${label}: ${csp}`);
  assert.equal(directives.get("frame-ancestors"), "'none'", `${label}: ${csp}`);
  assert.equal(directives.get("object-src"), "'none'", `${label}: ${csp}`);
  assert.equal(directives.get("base-uri"), "'none'", `${label}: ${csp}`);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|unsafe-hashes|\*/, label);
  assert.equal(headers.get("referrer-policy"), "no-referrer", label);
  assert.equal(headers.get("x-content-type-options"), "nosniff", label);
  assert.equal(headers.get("x-frame-options"), "DENY", label);
  assert.equal(headers.get("cache-control"), "no-store", label);
}

/** The HTML a response carries: the body, or the data of its SSE messages. */
function htmlOf({ headers, body }: Seen): string {
  if (!headers.get("content-type")?.startsWith("text/event-stream")) {
    return body;
  }
  return body.split("\n").filter((line) => line.startsWith("data:"))
    .map((line) => line.slice(5)).join("\n");
}

/**
 * Fails on inline scripts, event-handler attributes, hx-on and javascript:
 * URLs. Attributes are read from the parsed DOM: a prompt may legitimately
 * say `onload=` as text.
 */
function assertNoInlineScript(s: Seen) {
  const html = htmlOf(s);
  const { label } = s;
  // Text is escaped, so a literal "<script" can only be markup.
  assert.doesNotMatch(
    html,
    /<script(?![^>]*\ssrc=)[^>]*>/i,
    `${label}: inline <script>`,
  );
  const doc = parse(html);
  for (const el of doc.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      assert.doesNotMatch(
        attr.name,
        /^(on|hx-on|data-hx-on)/i,
        `${label}: <${el.tagName.toLowerCase()} ${attr.name}>`,
      );
      if (/^(href|src|action|formaction|hx-get|hx-post)$/i.test(attr.name)) {
        assert.doesNotMatch(
          attr.value.trim(),
          /^javascript:/i,
          `${label}: ${attr.name}`,
        );
      }
    }
  }
  for (const script of doc.querySelectorAll("script")) {
    assert.ok(script.getAttribute("src")?.startsWith("/static/"), label);
    assert.equal(script.textContent?.trim(), "", label);
  }
}

/** A same-origin loopback client keeping one workspace, recording every response. */
function client(t: TestApp, cookie: string, app = t.app) {
  const seen: Seen[] = [];
  const send = async (
    path: string,
    init: RequestInit & { remote?: string } = {},
  ): Promise<Seen> => {
    const { remote = "127.0.0.1", ...rest } = init;
    const headers = new Headers(rest.headers);
    if (!headers.has("origin")) headers.set("origin", ORIGIN);
    if (!headers.has("cookie")) headers.set("cookie", cookie);
    const response = await app.request(
      new URL(path, ORIGIN).href,
      { ...rest, headers },
      { remoteAddr: { hostname: remote } },
    );
    const s = {
      label: `${rest.method ?? "GET"} ${path} → ${response.status}`,
      status: response.status,
      headers: response.headers,
      body: await response.text(),
    };
    seen.push(s);
    return s;
  };
  return { send, seen };
}

Deno.test("[headers] every page, fragment and key-bearing response has CSP, no-referrer, nosniff, DENY and no-store; no inline script anywhere", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const { send, seen } = client(t, cookie);
  const expect = async (
    status: number,
    path: string,
    init?: RequestInit & { remote?: string },
  ) => {
    const s = await send(path, init);
    assert.equal(s.status, status, `${s.label}: ${s.body.slice(0, 300)}`);
    return s;
  };
  const { id } = await createBatchViaApi(t, {
    prompts: ["a heron <script>alert(1)</script>", 'a "wren" onload=alert(1)'],
    model: MODEL,
  }, { cookie });
  const missing = "0123456789abcdefghij0123456789ab";

  // Key checks: answered, refused for each reason.
  await expect(200, "/keys/validate", {
    method: "POST",
    body: form({ apiKey: TEST_KEY }),
  });
  await expect(400, "/keys/validate", { method: "POST", body: form({}) });
  await expect(422, "/keys/validate", {
    method: "POST",
    body: form({ apiKey: BAD_KEY }),
  });
  await expect(403, "/keys/validate", {
    method: "POST",
    remote: "203.0.113.9",
    body: form({ apiKey: TEST_KEY }),
  });
  await expect(200, "/api/keys/validate", {
    method: "POST",
    headers: { "x-goog-api-key": TEST_KEY },
  });
  await expect(400, "/api/keys/validate", { method: "POST" });
  await expect(422, "/api/keys/validate", {
    method: "POST",
    headers: { "x-goog-api-key": BAD_KEY },
  });
  await expect(403, "/api/keys/validate", {
    method: "POST",
    remote: "203.0.113.9",
    headers: { "x-goog-api-key": TEST_KEY },
  });

  // Runs: the SSE and NDJSON streams and their refusals.
  const sse = await expect(200, `/batches/${id}/run`, {
    method: "POST",
    headers: { "HX-Request": "true" },
    body: form({ apiKey: TEST_KEY }),
  });
  assert.match(sse.headers.get("content-type") ?? "", /^text\/event-stream/);
  const ndjson = await expect(200, `/api/batches/${id}/run?mode=retry`, {
    method: "POST",
    headers: { "x-goog-api-key": TEST_KEY },
  });
  assert.match(
    ndjson.headers.get("content-type") ?? "",
    /^application\/x-ndjson/,
  );
  await expect(400, `/batches/${id}/run`, { method: "POST", body: form({}) });
  await expect(403, `/batches/${id}/run`, {
    method: "POST",
    remote: "203.0.113.9",
    body: form({ apiKey: TEST_KEY }),
  });
  await expect(400, `/api/batches/${id}/run`, { method: "POST" });
  await expect(404, `/api/batches/${missing}/run`, {
    method: "POST",
    headers: { "x-goog-api-key": TEST_KEY },
  });

  // Pages, full and as htmx fragments, and the 404s.
  for (
    const path of [
      "/",
      "/key",
      "/history",
      "/history?q=heron",
      `/batches/${id}`,
      `/?from=${id}`,
    ]
  ) {
    await expect(200, path);
    await expect(200, path, { headers: HTMX });
  }
  await expect(404, "/no/such/page");
  await expect(404, "/no/such/page", { headers: HTMX });
  await expect(404, `/batches/${missing}`);
  await expect(404, "/api/no/such/route");

  // Fragments and forms.
  await expect(200, `/batches/options?model=${MODEL}`);
  await expect(200, "/batches/estimate", {
    method: "POST",
    body: form({ prompts: "a\nb", model: MODEL }),
  });
  await expect(200, `/batches/${id}/runner?mode=resume`);
  await expect(422, "/batches", {
    method: "POST",
    headers: HTMX,
    body: form({ prompts: "", model: MODEL }),
  });
  await expect(201, "/batches", {
    method: "POST",
    headers: HTMX,
    body: form({ prompts: "an egret", model: MODEL, apiKey: TEST_KEY }),
  });
  await expect(403, "/batches", {
    method: "POST",
    headers: { origin: "https://evil.example" },
    body: form({ prompts: "x", model: MODEL }),
  });

  // The JSON API.
  await expect(200, "/api/batches");
  await expect(200, `/api/batches/${id}`);
  await expect(200, `/api/batches/${id}/manifest.json`);
  await expect(404, `/api/batches/${missing}`);

  assert.ok(seen.length >= 40, `only ${seen.length} responses checked`);
  const record = JSON.parse(
    seen.find((s) => s.label === `GET /api/batches/${id} → 200`)!.body,
  );
  const imageUrl = record.items.find((i: { image: unknown }) => i.image)?.image
    .url;
  assert.ok(imageUrl, "the run saved no image");
  for (const s of seen) {
    assertSecureHeaders(s);
    const type = s.headers.get("content-type") ?? "";
    if (/^text\/(html|event-stream)/.test(type)) assertNoInlineScript(s);
  }
  // Images may be cached privately, but keep nosniff and the CSP.
  const image = await send(imageUrl);
  assert.equal(image.status, 200);
  assert.match(image.headers.get("content-type") ?? "", /^image\//);
  assert.equal(image.headers.get("x-content-type-options"), "nosniff");
  assert.match(image.headers.get("cache-control") ?? "", /^private/);
  assert.match(
    image.headers.get("content-security-policy") ?? "",
    /script-src 'self'/,
  );
  // The prompts' markup is shown as text, never as markup.
  const page = seen.find((s) => s.label === `GET /batches/${id} → 200`)!;
  assert.match(page.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
});

Deno.test("[headers] 429 refusals (page fragment and API) carry the same headers", async () => {
  await using t = await startTestApp();
  const refuseAll = () => new RateLimiter({ limit: 0, windowMs: 60_000 });
  const app = createApp({
    ...t.deps,
    rateLimits: {
      ...createRateLimits(),
      keyChecks: refuseAll(),
      runStarts: refuseAll(),
    },
  });
  const cookie = await newWorkspace(t);
  const { id } = await createBatchViaApi(t, { prompts: ["a"], model: MODEL }, {
    cookie,
  });
  const { send, seen } = client(t, cookie, app);
  await send("/keys/validate", {
    method: "POST",
    body: form({ apiKey: TEST_KEY }),
  });
  await send("/api/keys/validate", {
    method: "POST",
    headers: { "x-goog-api-key": TEST_KEY },
  });
  await send(`/batches/${id}/run`, {
    method: "POST",
    body: form({ apiKey: TEST_KEY }),
  });
  await send(`/api/batches/${id}/run`, {
    method: "POST",
    headers: { "x-goog-api-key": TEST_KEY },
  });
  for (const s of seen) {
    assert.equal(s.status, 429, s.label);
    assert.equal(s.headers.get("retry-after"), "60", s.label);
    assertSecureHeaders(s);
    if (s.headers.get("content-type")?.startsWith("text/html")) {
      assertNoInlineScript(s);
    }
  }
});

Deno.test("[headers] static assets and images may be cached but keep nosniff and the CSP", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const { send } = client(t, cookie);
  for (
    const path of [
      "/static/app.css",
      "/static/htmx.min.js",
      "/static/hx-sse.js",
      "/static/key_field.js",
    ]
  ) {
    const s = await send(path);
    assert.equal(s.status, 200, path);
    assert.equal(s.headers.get("x-content-type-options"), "nosniff", path);
    assert.match(
      s.headers.get("content-security-policy") ?? "",
      /script-src 'self'/,
    );
    assert.match(s.headers.get("cache-control") ?? "", /^public, max-age=\d+$/);
  }
});

Deno.test("[headers] the inline-script check itself catches each kind", () => {
  const as = (body: string, type = "text/html"): Seen => ({
    label: "sample",
    status: 200,
    headers: new Headers({ "content-type": type }),
    body,
  });
  for (
    const bad of [
      "<p>x</p><script>alert(1)</script>",
      '<div onclick="go()">x</div>',
      '<img src="/a.png" onerror="go()">',
      '<button hx-on:click="go()">x</button>',
      '<button hx-on::after-request="go()">x</button>',
      '<a href=" javascript:go()">x</a>',
    ]
  ) {
    assert.throws(() => assertNoInlineScript(as(bad)), Error, bad);
  }
  assert.throws(() =>
    assertNoInlineScript(
      as('data: <div onclick="go()"></div>\n\n', "text/event-stream"),
    )
  );
  assertNoInlineScript(as("<p>a &quot;wren&quot; onload=alert(1)</p>"));
  assertNoInlineScript(as('<script src="/static/htmx.min.js"></script>'));
});

Deno.test("[hosts] bound to loopback, only loopback names are answered (DNS rebinding); BATCHGEN_ALLOWED_HOSTS adds names", async () => {
  await using t = await startTestApp();
  const get = (host: string, app = t.app) =>
    app.request("http://127.0.0.1:8000/", { headers: { host } }, {
      remoteAddr: { hostname: "127.0.0.1" },
    });
  for (const host of ["127.0.0.1:8000", "localhost:8000", "[::1]:8000"]) {
    const response = await get(host);
    await response.body?.cancel();
    assert.equal(response.status, 200, host);
  }
  for (const host of ["rebind.attacker.example:8000", "127.0.0.1.nip.io"]) {
    const response = await get(host);
    assert.equal(response.status, 421, host);
    assert.match(await response.text(), /BATCHGEN_ALLOWED_HOSTS/);
  }
  const api = await t.app.request("http://127.0.0.1:8000/api/batches", {
    headers: { host: "rebind.attacker.example" },
  }, { remoteAddr: { hostname: "127.0.0.1" } });
  assert.equal(api.status, 421);
  assert.equal((await api.json()).error.code, "unknown_host");

  await using named = await startTestApp({
    env: { BATCHGEN_ALLOWED_HOSTS: "batchgen.example, localhost" },
  });
  const ok = await get("batchgen.example", named.app);
  await ok.body?.cancel();
  assert.equal(ok.status, 200);
  const refused = await get("127.0.0.1:8000", named.app);
  await refused.body?.cancel();
  assert.equal(refused.status, 421);
});
