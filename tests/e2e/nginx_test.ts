/**
 * K7 in the documented nginx deployment: nginx, configured by a copy of
 * deploy/nginx.conf (the name `localhost`, high loopback ports, a throwaway
 * CA's certificate in place of certbot's), in front of the real server
 * started as deploy/batchgen.service starts it. The same checks as
 * caddy_test.ts: a batch through https:// with the key, HSTS, the CSP, the
 * `__Host-` cookie, the run streamed unbuffered, large uploads accepted;
 * plain HTTP gets a redirect. And the HTTPS server's own proxy settings
 * served over plain HTTP (a mistake) still deliver no key: nginx replaces
 * a forged X-Forwarded-Proto.
 *
 * Needs `nginx` and `openssl` (Debian: apt-get install nginx openssl;
 * `deno task test` installs nginx as root). Without them the test is
 * reported as ignored, with the reason.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startFakeGemini } from "../fake_gemini.ts";
import { findProgram, proxyMissing } from "../ensure_caddy.ts";
import {
  assertNoKey,
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

const MISSING = proxyMissing("nginx") ??
  (findProgram("openssl")
    ? undefined
    : "openssl is not installed (Debian: apt-get install openssl)");
if (MISSING) say(`tests/e2e/nginx_test.ts is ignored: ${MISSING}`);

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

/** A throwaway CA and a leaf for localhost signed by it. */
async function makeCertificates(dir: string) {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
  await openssl(
    dir,
    ...["req", "-x509", ...ec, "-nodes", "-keyout", "ca.key"],
    ...["-out", "ca.pem", "-days", "2", "-subj", "/CN=BatchGen nginx test CA"],
    ...["-addext", "basicConstraints=critical,CA:TRUE"],
    ...["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
  );
  await openssl(
    dir,
    ...["req", ...ec, "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr"],
    ...["-subj", "/CN=localhost"],
  );
  await Deno.writeTextFile(
    join(dir, "leaf.ext"),
    [
      "subjectAltName=DNS:localhost",
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=serverAuth",
    ].join("\n") + "\n",
  );
  await openssl(
    dir,
    ...["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey"],
    ...["ca.key", "-CAcreateserial", "-out", "leaf.pem", "-days", "2"],
    ...["-extfile", "leaf.ext"],
  );
  return {
    caPem: await Deno.readTextFile(join(dir, "ca.pem")),
    cert: join(dir, "leaf.pem"),
    key: join(dir, "leaf.key"),
  };
}

/** The `server { … }` block of `text` that contains `marker`. */
function serverBlock(text: string, marker: string): string {
  const at = text.indexOf(marker);
  assert.ok(at >= 0, `deploy/nginx.conf no longer has ${marker}`);
  const start = text.lastIndexOf("\nserver {", at) + 1;
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    if (text[i] === "{") depth++;
    if (text[i] === "}" && --depth === 0) return text.slice(start, i + 1);
  }
  throw new Error("deploy/nginx.conf: an unclosed server block");
}

/**
 * deploy/nginx.conf for this machine, in a main configuration of its own
 * (foreground, one process, files in `dir`); plus its HTTPS server's
 * settings served over plain HTTP on `plainPort`.
 */
async function testNginxConf(
  dir: string,
  tls: { cert: string; key: string },
  ports: { app: number; http: number; https: number; plain: number },
): Promise<string> {
  let site = await Deno.readTextFile(join(DEPLOY, "nginx.conf"));
  site = replaceIn(
    "deploy/nginx.conf",
    site,
    "/etc/letsencrypt/live/batchgen.example.com/fullchain.pem",
    tls.cert,
  );
  site = replaceIn(
    "deploy/nginx.conf",
    site,
    "/etc/letsencrypt/live/batchgen.example.com/privkey.pem",
    tls.key,
  );
  site = replaceIn(
    "deploy/nginx.conf",
    site,
    /server_name batchgen\.example\.com;/g,
    "server_name localhost;",
  );
  site = replaceIn("deploy/nginx.conf", site, /^\s*listen \[::\]:.*\n/gm, "");
  site = replaceIn(
    "deploy/nginx.conf",
    site,
    /listen 80;/,
    `listen 127.0.0.1:${ports.http};`,
  );
  site = replaceIn(
    "deploy/nginx.conf",
    site,
    /listen 443 ssl http2;/,
    `listen 127.0.0.1:${ports.https} ssl http2;`,
  );
  site = replaceIn(
    "deploy/nginx.conf",
    site,
    /server 127\.0\.0\.1:8000;/,
    `server 127.0.0.1:${ports.app};`,
  );
  const plain = serverBlock(site, `listen 127.0.0.1:${ports.https} ssl`)
    .replace(/listen [^;]+ ssl http2;/, `listen 127.0.0.1:${ports.plain};`)
    .replace(/^\s*ssl_\w+ [^;]+;\n/gm, "");
  const temp = (name: string) => join(dir, name);
  const main = [
    "daemon off;",
    "master_process off;",
    `pid ${temp("nginx.pid")};`,
    "error_log stderr notice;",
    "events { worker_connections 128; }",
    "http {",
    `  access_log ${temp("access.log")};`,
    `  client_body_temp_path ${temp("body")};`,
    `  proxy_temp_path ${temp("proxy")};`,
    `  fastcgi_temp_path ${temp("fastcgi")};`,
    `  uwsgi_temp_path ${temp("uwsgi")};`,
    `  scgi_temp_path ${temp("scgi")};`,
    site,
    "# Not in deploy/nginx.conf: its HTTPS settings over plain HTTP.",
    plain,
    "}",
    "",
  ].join("\n");
  const file = join(dir, "nginx.conf");
  await Deno.writeTextFile(file, main);
  return file;
}

Deno.test({
  name:
    "K7 deploy/: a batch runs through nginx (deploy/nginx.conf) with the key; HSTS, CSP, __Host- cookie, unbuffered run; plain HTTP is redirected, forged X-Forwarded-Proto replaced" +
    (MISSING ? ` (ignored: ${MISSING})` : ""),
  ignore: MISSING !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "batchgen-nginx-" });
    const fake = startFakeGemini();
    let batchgen: Started | undefined;
    let nginx: Started | undefined;
    let client: Deno.HttpClient | undefined;
    let accessLog = "";
    try {
      const ports = {
        app: freePort(),
        http: freePort(),
        https: freePort(),
        plain: freePort(),
      };
      const tls = await makeCertificates(dir);
      batchgen = await startBatchGen({
        port: ports.app,
        dataDir: join(dir, "data"),
        fake,
      });
      const conf = await testNginxConf(dir, tls, ports);
      const check = await new Deno.Command(findProgram("nginx")!, {
        args: ["-t", "-q", "-p", dir, "-c", conf, "-e", "stderr"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(
        check.success,
        `nginx -t: ${new TextDecoder().decode(check.stderr)}`,
      );
      nginx = start(findProgram("nginx")!, {
        args: ["-p", dir, "-c", conf, "-e", "stderr"],
        cwd: dir,
      });
      client = Deno.createHttpClient({ caCerts: [tls.caPem] });
      const base = `https://localhost:${ports.https}`;
      await waitForHttps(`${base}/static/app.css`, client, nginx, "nginx");

      await checkHttpsDeployment(base, client, fake);

      await checkPlainHttpRedirects(
        `http://localhost:${ports.http}`,
        fake,
        [301],
      );

      await checkPlainHttpSite(`http://localhost:${ports.plain}`, fake);
    } finally {
      client?.close();
      await stop(nginx);
      await stop(batchgen);
      await fake.close();
      accessLog = await Deno.readTextFile(join(dir, "access.log"))
        .catch(() => "");
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
    assertNoKey("nginx's access log", accessLog.split("\n"));
    assertNoKeyInOutput([["BatchGen", batchgen], ["nginx", nginx]]);
  },
});
