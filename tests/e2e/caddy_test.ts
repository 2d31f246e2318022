/**
 * K7 in the documented HTTPS deployment: Caddy, configured by a copy of
 * deploy/Caddyfile (the name `localhost`, high ports, `tls internal` with
 * Caddy's own CA, no admin endpoint), in front of the real server started as
 * deploy/batchgen.service starts it (deploy/serve.sh: the narrowest
 * permissions, BATCHGEN_TRUST_PROXY=1). A batch runs through https:// with
 * the key; HSTS, the CSP and the `__Host-` cookie arrive; the run streams;
 * plain HTTP to the proxy gets a redirect, never the page or its key field.
 *
 * Needs the `caddy` program (Debian: apt-get install caddy; `deno task test`
 * installs it as root). Without it the test is reported as ignored, with
 * the reason.
 */
import { join } from "node:path";
import { startFakeGemini } from "../fake_gemini.ts";
import { findProgram, proxyMissing } from "../ensure_caddy.ts";
import {
  assertNoKeyInOutput,
  checkHttpsDeployment,
  checkPlainHttpRedirects,
  checkPlainHttpSite,
  DEPLOY,
  freePort,
  replaceIn,
  say,
  start,
  startBatchGen,
  type Started,
  stop,
  waitForHttps,
} from "./_proxy.ts";

const MISSING = proxyMissing("caddy");
if (MISSING) say(`tests/e2e/caddy_test.ts is ignored: ${MISSING}`);

/**
 * deploy/Caddyfile for this machine: `localhost` on high loopback ports,
 * `tls internal` (its CA kept in `dir`, trusted by nobody but this test),
 * no admin endpoint; plus a plain-HTTP site on `plainPort`, the mistake the
 * deploy file does not make.
 */
async function testCaddyfile(
  dir: string,
  ports: { app: number; http: number; https: number; plain: number },
): Promise<string> {
  let text = await Deno.readTextFile(join(DEPLOY, "Caddyfile"));
  text = replaceIn(
    "deploy/Caddyfile",
    text,
    /^\{\n/m,
    [
      "{",
      "\tadmin off",
      "\tskip_install_trust",
      `\tstorage file_system ${join(dir, "caddy-data")}`,
      `\thttp_port ${ports.http}`,
      `\thttps_port ${ports.https}`,
      "\tdefault_bind 127.0.0.1",
      "",
    ].join("\n"),
  );
  text = replaceIn(
    "deploy/Caddyfile",
    text,
    /batchgen\.example\.com \{/g,
    "localhost {",
  );
  text = replaceIn(
    "deploy/Caddyfile",
    text,
    /^(\s*)# tls internal$/m,
    "$1tls internal",
  );
  text = replaceIn(
    "deploy/Caddyfile",
    text,
    /reverse_proxy 127\.0\.0\.1:8000 /,
    `reverse_proxy 127.0.0.1:${ports.app} `,
  );
  text += [
    "",
    `http://localhost:${ports.plain} {`,
    `\treverse_proxy 127.0.0.1:${ports.app}`,
    "}",
    "",
  ].join("\n");
  const file = join(dir, "Caddyfile");
  await Deno.writeTextFile(file, text);
  return file;
}

/** Caddy's root certificate, once it has made its CA. */
async function caddyRoot(dir: string, caddy: Started): Promise<string> {
  const root = join(
    dir,
    "caddy-data",
    "pki",
    "authorities",
    "local",
    "root.crt",
  );
  const until = Date.now() + 30_000;
  while (Date.now() < until && caddy.exitCode === undefined) {
    try {
      return await Deno.readTextFile(root);
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`Caddy made no CA:\n${caddy.stderr.lines.join("\n")}`);
}

Deno.test({
  name:
    "K7 deploy/: a batch runs through Caddy (tls internal) with the key; HSTS, CSP, __Host- cookie, streamed run; plain HTTP is redirected, never shown the key field" +
    (MISSING ? ` (ignored: ${MISSING})` : ""),
  ignore: MISSING !== undefined,
  // The TLS client's connection pool outlives single requests.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "batchgen-caddy-" });
    const fake = startFakeGemini();
    let batchgen: Started | undefined;
    let caddy: Started | undefined;
    let client: Deno.HttpClient | undefined;
    try {
      const ports = {
        app: freePort(),
        http: freePort(),
        https: freePort(),
        plain: freePort(),
      };
      batchgen = await startBatchGen({
        port: ports.app,
        dataDir: join(dir, "data"),
        fake,
      });
      const caddyfile = await testCaddyfile(dir, ports);
      caddy = start(findProgram("caddy")!, {
        args: ["run", "--config", caddyfile, "--adapter", "caddyfile"],
        cwd: dir,
        clearEnv: true,
        env: {
          PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
          HOME: dir,
          XDG_DATA_HOME: join(dir, "xdg-data"),
          XDG_CONFIG_HOME: join(dir, "xdg-config"),
        },
      });
      client = Deno.createHttpClient({
        caCerts: [await caddyRoot(dir, caddy)],
      });
      const base = `https://localhost:${ports.https}`;
      await waitForHttps(`${base}/static/app.css`, client, caddy, "Caddy");

      await checkHttpsDeployment(base, client, fake);

      await checkPlainHttpRedirects(
        `http://localhost:${ports.http}`,
        fake,
        [301, 302, 307, 308],
      );

      // Had the proxy served plain HTTP, BatchGen would still not take a key.
      await checkPlainHttpSite(`http://localhost:${ports.plain}`, fake);
    } finally {
      client?.close();
      await stop(caddy);
      await stop(batchgen);
      await fake.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
    assertNoKeyInOutput([["BatchGen", batchgen], ["Caddy", caddy]]);
  },
});
