/**
 * K7 Transport. The real server (main.ts as a subprocess) serves HTTPS from
 * BATCHGEN_TLS_CERT_FILE / BATCHGEN_TLS_KEY_FILE with a throwaway CA and leaf
 * made by openssl at test time: pages load, HSTS is sent, the workspace
 * cookie is Secure, a key check works over HTTPS, and plain HTTP on the same
 * port gets nothing. Behind a reverse proxy, BATCHGEN_TRUST_PROXY=1 makes
 * `X-Forwarded-Proto: https` count; without it the header is ignored.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { form, startTestApp, TEST_KEY } from "./_helpers.ts";
import { findKeyMaterial } from "./_key_leaks.ts";
import { startFakeGemini } from "./fake_gemini.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const HSTS = "max-age=31536000; includeSubDomains";

/** Why the subprocess TLS test cannot run here, or undefined. */
async function opensslMissing(): Promise<string | undefined> {
  try {
    const { success } = await new Deno.Command("openssl", {
      args: ["version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success ? undefined : "`openssl version` failed";
  } catch {
    return "openssl is not installed (Debian: apt-get install openssl)";
  }
}
const NO_OPENSSL = await opensslMissing();

async function openssl(dir: string, ...args: string[]) {
  const { success, stderr } = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) {
    throw new Error(
      `openssl ${args[0]} failed: ${new TextDecoder().decode(stderr)}`,
    );
  }
}

/** A throwaway CA and a leaf for localhost / 127.0.0.1 signed by it. */
async function makeCertificates(dir: string) {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
  await openssl(
    dir,
    "req",
    "-x509",
    ...ec,
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=BatchGen test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  await openssl(
    dir,
    "req",
    ...ec,
    "-nodes",
    "-keyout",
    "leaf.key",
    "-out",
    "leaf.csr",
    "-subj",
    "/CN=localhost",
  );
  await Deno.writeTextFile(
    join(dir, "leaf.ext"),
    [
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
    ].join("\n") + "\n",
  );
  await openssl(
    dir,
    "x509",
    "-req",
    "-in",
    "leaf.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "leaf.pem",
    "-days",
    "2",
    "-extfile",
    "leaf.ext",
  );
  return {
    caPem: await Deno.readTextFile(join(dir, "ca.pem")),
    certFile: join(dir, "leaf.pem"),
    keyFile: join(dir, "leaf.key"),
  };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** `deno task start` as a subprocess with a clean environment plus `env`. */
function mainProcess(env: Record<string, string>) {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      "--allow-ffi",
      "--allow-run",
      "main.ts",
    ],
    cwd: ROOT,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "",
      ...(Deno.env.get("DENO_DIR")
        ? { DENO_DIR: Deno.env.get("DENO_DIR")! }
        : {}),
      NO_COLOR: "1",
      HOST: "127.0.0.1",
      ...env,
    },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  });
}

/** Reads stderr lines until one matches, keeping them all in `lines`. */
async function waitForLine(
  stream: ReadableStream<Uint8Array>,
  lines: string[],
  pattern: RegExp,
  ms = 30_000,
): Promise<void> {
  const bytes = stream.getReader();
  const decoder = new TextDecoder();
  const reader = {
    async read(): Promise<{ value: string; done: boolean }> {
      const { value, done } = await bytes.read();
      return { value: decoder.decode(value, { stream: !done }), done };
    },
    cancel: (reason: string) => bytes.cancel(reason),
  };
  let buffer = "";
  const timer = setTimeout(() => reader.cancel("timed out"), ms);
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      lines.push(...parts);
      if (parts.some((line) => pattern.test(line))) {
        // Keep draining in the background so the child never blocks.
        (async () => {
          try {
            while (true) {
              const more = await reader.read();
              if (more.done) break;
              lines.push(...more.value.split("\n").filter(Boolean));
            }
          } catch { /* the child ended */ }
        })();
        return;
      }
    }
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`the server never logged ${pattern}:\n${lines.join("\n")}`);
}

Deno.test({
  // When openssl is missing the test is reported as ignored, with the reason.
  name:
    "K7 the real server serves HTTPS from BATCHGEN_TLS_*: page, HSTS, Secure cookie, key check over TLS; plain HTTP gets nothing" +
    (NO_OPENSSL ? ` (ignored: ${NO_OPENSSL})` : ""),
  ignore: NO_OPENSSL !== undefined,
  // The TLS client's connection pool outlives single requests.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "batchgen-tls-" });
    const fake = startFakeGemini();
    let child: Deno.ChildProcess | undefined;
    let client: Deno.HttpClient | undefined;
    const stderr: string[] = [];
    try {
      const { caPem, certFile, keyFile } = await makeCertificates(dir);
      const port = freePort();
      child = mainProcess({
        PORT: String(port),
        BATCHGEN_DATA_DIR: join(dir, "data"),
        BATCHGEN_GEMINI_BASE_URL: fake.url,
        BATCHGEN_TLS_CERT_FILE: certFile,
        BATCHGEN_TLS_KEY_FILE: keyFile,
      }).spawn();
      await waitForLine(
        child.stderr,
        stderr,
        new RegExp(`listening on https://127\\.0\\.0\\.1:${port}`),
      );
      const tls = Deno.createHttpClient({ caCerts: [caPem] });
      client = tls;

      for (const host of ["localhost", "127.0.0.1"]) {
        const base = `https://${host}:${port}`;
        const page = await fetch(`${base}/`, { client: tls });
        const html = await page.text();
        assert.equal(page.status, 200, html.slice(0, 300));
        assert.match(html, /id="api-key"/);
        assert.equal(page.headers.get("strict-transport-security"), HSTS);
        assert.equal(page.headers.get("cache-control"), "no-store");
        const cookie = page.headers.get("set-cookie") ?? "";
        assert.match(
          cookie,
          /^__Host-batchgen_workspace=[^;]+;/,
          "__Host- prefixed over HTTPS",
        );
        assert.match(cookie, /;\s*Secure(;|$)/i, cookie);
        assert.match(cookie, /;\s*HttpOnly(;|$)/i, cookie);

        const jar = cookie.split(";")[0]!;
        const check = await fetch(`${base}/keys/validate`, {
          client: tls,
          method: "POST",
          headers: { cookie: jar, origin: base },
          body: form({ apiKey: TEST_KEY }),
        });
        const fragment = await check.text();
        assert.equal(check.status, 200, fragment);
        assert.match(fragment, /Key works/);
        assert.equal(check.headers.get("strict-transport-security"), HSTS);
        assert.equal(findKeyMaterial(fragment, TEST_KEY), undefined);

        const api = await fetch(`${base}/api/keys/validate`, {
          client: tls,
          method: "POST",
          headers: { "x-goog-api-key": TEST_KEY, cookie: jar },
        });
        assert.equal(api.status, 200);
        assert.equal((await api.json()).ok, true);
      }
      assert.ok(
        fake.requests.some((r) => r.headers["x-goog-api-key"] === TEST_KEY),
        "the key checks did not reach the fake Google",
      );

      // TLS only: plain HTTP to the same port is not served.
      const plain = await fetch(`http://127.0.0.1:${port}/`).then(
        async (r) => `HTTP ${r.status}: ${(await r.text()).slice(0, 100)}`,
        () => undefined,
      );
      assert.equal(plain, undefined, `plain HTTP was answered: ${plain}`);
      // A certificate from an unknown CA is refused by a default client.
      await assert.rejects(fetch(`https://localhost:${port}/`));
    } finally {
      client?.close();
      if (child) {
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
        await child.status;
      }
      await fake.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
    for (const line of stderr) {
      assert.equal(findKeyMaterial(line, TEST_KEY), undefined, line);
    }
  },
});

Deno.test("K7 unreadable or invalid TLS files stop the start with one readable line (exit 2)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "batchgen-tls-bad-" });
  try {
    const garbage = "-----BEGIN PRIVATE KEY-----\nNotAKeyZq7Xv93KpWm2Rt8\n";
    await Deno.writeTextFile(join(dir, "bad.pem"), garbage);
    const cases: [string, string, RegExp][] = [
      [join(dir, "missing.pem"), join(dir, "missing.key"), /cannot read/],
      [join(dir, "bad.pem"), join(dir, "bad.pem"), /cannot serve HTTPS/],
    ];
    for (const [certFile, keyFile, reason] of cases) {
      const { code, stderr } = await mainProcess({
        PORT: String(freePort()),
        BATCHGEN_DATA_DIR: join(dir, "data"),
        BATCHGEN_TLS_CERT_FILE: certFile,
        BATCHGEN_TLS_KEY_FILE: keyFile,
      }).output();
      const text = new TextDecoder().decode(stderr);
      assert.equal(code, 2, text);
      assert.match(text, /^Cannot start BatchGen: /m);
      assert.match(text, reason);
      assert.match(text, /BATCHGEN_TLS_CERT_FILE/);
      assert.doesNotMatch(
        text,
        /NotAKey|Uncaught|at main/,
        "a stack trace or the file's content",
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("K7 behind a proxy: with BATCHGEN_TRUST_PROXY=1, X-Forwarded-Proto https from 203.0.113.9 is accepted with HSTS; without it, ignored (403)", async () => {
  const viaProxy = {
    "x-forwarded-proto": "https",
    "x-forwarded-for": "203.0.113.9",
  };
  {
    await using t = await startTestApp({ env: { BATCHGEN_TRUST_PROXY: "1" } });
    // The proxy itself connects from its own address.
    const page = await t.request("/", {
      remote: "10.0.0.2",
      headers: viaProxy,
    });
    assert.equal(page.status, 200);
    await page.body?.cancel();
    assert.equal(page.headers.get("strict-transport-security"), HSTS);
    assert.match(page.headers.get("set-cookie") ?? "", /;\s*Secure/i);
    const jar = page.headers.get("set-cookie")!.split(";")[0]!;

    const validate = await t.request("/keys/validate", {
      remote: "10.0.0.2",
      method: "POST",
      headers: { ...viaProxy, cookie: jar, origin: "https://127.0.0.1:8000" },
      body: form({ apiKey: TEST_KEY }),
    });
    const fragment = await validate.text();
    assert.equal(validate.status, 200, fragment);
    assert.match(fragment, /Key works/);
    assert.equal(validate.headers.get("strict-transport-security"), HSTS);
    const api = await t.request("/api/keys/validate", {
      remote: "10.0.0.2",
      method: "POST",
      headers: { ...viaProxy, "x-goog-api-key": TEST_KEY },
    });
    assert.equal(api.status, 200);
    assert.equal(api.headers.get("strict-transport-security"), HSTS);
    await api.body?.cancel();

    // The proxy saying the client used plain HTTP: refused from afar.
    const plain = await t.request("/api/keys/validate", {
      remote: "10.0.0.2",
      method: "POST",
      headers: {
        "x-forwarded-proto": "http",
        "x-forwarded-for": "203.0.113.9",
        "x-goog-api-key": TEST_KEY,
      },
    });
    assert.equal(plain.status, 403);
    assert.equal((await plain.json()).error.code, "insecure_transport");
    assert.equal(plain.headers.get("strict-transport-security"), null);
  }
  {
    await using t = await startTestApp();
    const calls = t.fake.requests.length;
    for (const remote of ["203.0.113.9", "10.0.0.2"]) {
      const page = await t.request("/", { remote, headers: viaProxy });
      await page.body?.cancel();
      assert.equal(page.headers.get("strict-transport-security"), null);
      assert.doesNotMatch(page.headers.get("set-cookie") ?? "", /Secure/i);
      const api = await t.request("/api/keys/validate", {
        remote,
        method: "POST",
        headers: { ...viaProxy, "x-goog-api-key": TEST_KEY },
      });
      assert.equal(api.status, 403);
      const { error } = await api.json();
      assert.equal(error.code, "insecure_transport");
      assert.match(error.message, /plain HTTP/);
      const validate = await t.request("/keys/validate", {
        remote,
        method: "POST",
        headers: viaProxy,
        body: form({ apiKey: TEST_KEY }),
      });
      assert.equal(validate.status, 403);
      assert.match(await validate.text(), /plain HTTP/);
    }
    assert.equal(t.fake.requests.length, calls, "Google was called");
  }
});
