import assert from "node:assert/strict";
import { ConfigError, GOOGLE_API_BASE_URL, loadConfig } from "./config.ts";

Deno.test("loadConfig() gives the documented defaults for an empty environment", () => {
  const config = loadConfig({});
  assert.equal(config.port, 8000);
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.geminiBaseUrl, GOOGLE_API_BASE_URL);
  assert.equal(config.concurrency, 4);
  assert.equal(config.trustProxy, false);
  assert.match(config.databaseUrl, /^file:.*data\/batchgen\.db$/);
});

Deno.test("loadConfig() lists every bad variable in one readable message", () => {
  assert.throws(
    () =>
      loadConfig({
        PORT: "eighty",
        BATCHGEN_CONCURRENCY: "99",
        BATCHGEN_TRUST_PROXY: "maybe",
      }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /^Cannot start BatchGen: bad configuration/);
      for (
        const name of ["PORT", "BATCHGEN_CONCURRENCY", "BATCHGEN_TRUST_PROXY"]
      ) {
        assert.match(error.message, new RegExp(name));
      }
      return true;
    },
  );
});

Deno.test("loadConfig() sends the key over plain http only to this machine (K7)", () => {
  for (
    const url of [
      "http://127.0.0.1:8787",
      "http://localhost:9000",
      "http://[::1]:8080",
    ]
  ) {
    assert.equal(
      loadConfig({ BATCHGEN_GEMINI_BASE_URL: url }).geminiBaseUrl,
      url,
    );
  }
  assert.equal(
    loadConfig({ BATCHGEN_GEMINI_BASE_URL: "https://gemini-proxy.example/" })
      .geminiBaseUrl,
    "https://gemini-proxy.example",
  );
  assert.throws(
    () =>
      loadConfig({ BATCHGEN_GEMINI_BASE_URL: "http://gemini-proxy.lan:8080" }),
    /BATCHGEN_GEMINI_BASE_URL: must be https/,
  );
});
