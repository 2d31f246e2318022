/** K7 through proxies: loopback counts as "this machine" only for direct connections. */
import assert from "node:assert/strict";
import { createBatchViaApi, startTestApp, TEST_KEY } from "./_helpers.ts";

const KEY = { "x-goog-api-key": TEST_KEY };

Deno.test("K7 a local plain-HTTP proxy or tunnel (peer 127.0.0.1 with proxy headers) cannot deliver a key without BATCHGEN_TRUST_PROXY", async () => {
  await using t = await startTestApp();
  for (
    const header of <Record<string, string>[]> [
      { "x-forwarded-for": "203.0.113.9" },
      { "x-real-ip": "203.0.113.9" },
      { forwarded: "for=203.0.113.9;proto=http" },
      { via: "1.1 tunnel" },
    ]
  ) {
    const response = await t.request("/api/keys/validate", {
      method: "POST",
      headers: { ...KEY, ...header },
    });
    assert.equal(response.status, 403, JSON.stringify(header));
    assert.match((await response.json()).error.message, /BATCHGEN_TRUST_PROXY/);
  }
  assert.equal(t.fake.requests.length, 0, "Google was never called");
  const direct = await t.request("/api/keys/validate", {
    method: "POST",
    headers: KEY,
  });
  assert.equal(direct.status, 200, "a direct loopback request is fine");
  await direct.body?.cancel();
});

Deno.test("K7 behind a declared proxy only HTTPS at the proxy counts: no header, plain http, or a forged first entry are refused", async () => {
  await using t = await startTestApp({ env: { BATCHGEN_TRUST_PROXY: "1" } });
  const { id, cookie } = await createBatchViaApi(t, {
    prompts: ["a moth"],
    model: "gemini-nano-banana-2.1",
  });
  for (
    const headers of <Record<string, string>[]> [
      {}, // the proxy set nothing: it still may be the proxy
      { "x-forwarded-proto": "http", "x-forwarded-for": "127.0.0.1" },
      {
        "x-forwarded-proto": "https, http",
        "x-forwarded-for": "127.0.0.1, 203.0.113.9",
      },
    ]
  ) {
    for (const path of ["/api/keys/validate", `/api/batches/${id}/run`]) {
      const response = await t.request(path, {
        method: "POST",
        headers: { ...KEY, cookie, ...headers },
      });
      assert.equal(response.status, 403, `${path} ${JSON.stringify(headers)}`);
      await response.body?.cancel();
    }
  }
  assert.equal(t.fake.requests.length, 0, "Google was never called");
  const viaHttps = await t.request("/api/keys/validate", {
    method: "POST",
    headers: {
      ...KEY,
      "x-forwarded-proto": "https",
      "x-forwarded-for": "203.0.113.9",
    },
  });
  assert.equal(viaHttps.status, 200);
  assert.match(
    viaHttps.headers.get("strict-transport-security") ?? "",
    /max-age/,
  );
  await viaHttps.body?.cancel();
});

Deno.test("K7 a page served where a key would travel unencrypted has no key field, and says how to fix it", async () => {
  await using t = await startTestApp();
  const remote = await t.request("/", { remote: "203.0.113.9" });
  const html = await remote.text();
  assert.equal(remote.status, 200);
  assert.doesNotMatch(html, /name="apiKey"/, "no key field to type into");
  assert.doesNotMatch(html, /id="api-key"/);
  assert.match(
    html,
    /No key field here: your key would travel over plain HTTP/,
  );
  assert.match(html, /BATCHGEN_TLS_CERT_FILE/);
  const local = await (await t.request("/")).text();
  assert.match(local, /<input type="password" id="api-key" name="apiKey"/);
});
