/**
 * Helpers of the deploy/ proxy tests (caddy_test.ts, nginx_test.ts): the
 * real server started the way batchgen.service starts it (deploy/serve.sh
 * with the unit's environment), process output collected line by line, and
 * the checks every HTTPS deployment must pass.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TEST_KEY } from "../_helpers.ts";
import { findKeyMaterial } from "../_key_leaks.ts";
import type { FakeGemini } from "../fake_gemini.ts";
import { encodePng } from "../fake_gemini/png.ts";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const DEPLOY = join(ROOT, "deploy");
export const HSTS = "max-age=31536000; includeSubDomains";

export function say(text: string) {
  Deno.stderr.writeSync(new TextEncoder().encode(text + "\n"));
}

export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** The text of a byte stream, chunk by chunk. */
async function* text(stream: ReadableStream<Uint8Array>) {
  const decoder = new TextDecoder();
  for await (const bytes of stream) {
    yield decoder.decode(bytes, { stream: true });
  }
  yield decoder.decode();
}

/** Every line a process writes to one stream, kept as it arrives. */
export class Lines {
  readonly lines: string[] = [];
  #waiters: { pattern: RegExp; resolve: () => void }[] = [];
  readonly done: Promise<void>;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = this.#read(stream);
  }

  async #read(stream: ReadableStream<Uint8Array>) {
    let buffer = "";
    try {
      for await (const chunk of text(stream)) {
        buffer += chunk;
        const parts = buffer.split("\n");
        buffer = parts.pop()!;
        for (const line of parts) this.#add(line);
      }
    } catch {
      // The process ended.
    }
    if (buffer) this.#add(buffer);
  }

  #add(line: string) {
    this.lines.push(line);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.pattern.test(line)) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once a line matches `pattern`; rejects after `ms`. */
  waitFor(pattern: RegExp, ms = 30_000): Promise<void> {
    if (this.lines.some((line) => pattern.test(line))) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(`never logged ${pattern}:\n${this.lines.join("\n")}`),
        );
      }, ms);
      this.#waiters.push({
        pattern,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }
}

/** A started process with its output. */
export interface Started {
  child: Deno.ChildProcess;
  stdout: Lines;
  stderr: Lines;
  /** Set once the process has exited. */
  exitCode?: number;
}

export function start(
  command: string,
  options: Omit<Deno.CommandOptions, "stdout" | "stderr" | "stdin">,
): Started {
  const child = new Deno.Command(command, {
    ...options,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const started: Started = {
    child,
    stdout: new Lines(child.stdout),
    stderr: new Lines(child.stderr),
  };
  child.status.then(({ code }) => started.exitCode = code);
  return started;
}

/** SIGTERM, then the exit and the last output. */
export async function stop(started: Started | undefined) {
  if (!started) return;
  try {
    started.child.kill("SIGTERM");
  } catch { /* already gone */ }
  await started.child.status;
  await Promise.all([started.stdout.done, started.stderr.done]);
}

/** `Environment=NAME=value` lines of deploy/batchgen.service. */
export async function unitEnvironment(): Promise<Record<string, string>> {
  const unit = await Deno.readTextFile(join(DEPLOY, "batchgen.service"));
  const env: Record<string, string> = {};
  for (const [, name, value] of unit.matchAll(/^Environment=(\w+)=(.*)$/gm)) {
    env[name!] = value!.trim();
  }
  return env;
}

/**
 * BatchGen as batchgen.service starts it: deploy/serve.sh (the narrowest
 * permissions) with the unit's environment, except for this machine's paths,
 * a free port, the fake Gemini and `localhost` as the public name.
 */
export async function startBatchGen(
  { port, dataDir, fake }: { port: number; dataDir: string; fake: FakeGemini },
): Promise<Started> {
  const unit = await unitEnvironment();
  // What the deployment promises: loopback only, behind a proxy it trusts.
  assert.equal(unit.HOST, "127.0.0.1", "batchgen.service: HOST");
  assert.equal(unit.PORT, "8000", "batchgen.service: PORT");
  assert.equal(unit.BATCHGEN_TRUST_PROXY, "1", "batchgen.service");
  assert.match(
    unit.BATCHGEN_ALLOWED_HOSTS ?? "",
    /^batchgen\.example\.com,/,
    "batchgen.service: the public name first in BATCHGEN_ALLOWED_HOSTS",
  );
  const env: Record<string, string> = {
    ...unit,
    PORT: String(port),
    BATCHGEN_DATA_DIR: dataDir,
    BATCHGEN_ALLOWED_HOSTS: "localhost",
    BATCHGEN_GEMINI_BASE_URL: fake.url,
    BATCHGEN_DENO: Deno.execPath(),
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? dataDir,
  };
  // This machine's Deno cache, not /var/cache/batchgen.
  delete env.DENO_DIR;
  const denoDir = Deno.env.get("DENO_DIR");
  if (denoDir) env.DENO_DIR = denoDir;
  const started = start(join(DEPLOY, "serve.sh"), {
    cwd: ROOT,
    clearEnv: true,
    env,
  });
  try {
    await started.stderr.waitFor(
      new RegExp(`listening on http://127\\.0\\.0\\.1:${port}\\b`),
      60_000,
    );
  } catch (error) {
    await stop(started);
    throw error;
  }
  return started;
}

/** `name=value` of a Set-Cookie header. */
function cookiePair(setCookie: string | null): string {
  return (setCookie ?? "").split(";")[0]!;
}

/** Reads an NDJSON stream, noting when each line arrived. */
async function timedLines(
  response: Response,
): Promise<{ at: number; value: Record<string, unknown> }[]> {
  const out: { at: number; value: Record<string, unknown> }[] = [];
  let buffer = "";
  for await (const chunk of text(response.body!)) {
    buffer += chunk;
    const parts = buffer.split("\n");
    buffer = parts.pop()!;
    for (const line of parts.filter(Boolean)) {
      out.push({ at: performance.now(), value: JSON.parse(line) });
    }
  }
  if (buffer.trim()) {
    out.push({ at: performance.now(), value: JSON.parse(buffer) });
  }
  return out;
}

/** Extra latency of the second prompt: the stream must not hold back the first. */
const SLOW_MS = 1_500;

/**
 * Through the proxy at `base` (https://…): the page with its key field, HSTS,
 * the CSP and the `__Host-` cookie; a batch created and run with the key in
 * `x-goog-api-key`, its progress streamed as it happens; its images served;
 * reference uploads far above the 2 MB form limit pass the proxy.
 */
export async function checkHttpsDeployment(
  base: string,
  client: Deno.HttpClient,
  fake: FakeGemini,
) {
  const page = await fetch(`${base}/`, { client });
  const html = await page.text();
  assert.equal(page.status, 200, html.slice(0, 300));
  assert.equal(page.headers.get("strict-transport-security"), HSTS);
  const csp = page.headers.get("content-security-policy") ?? "";
  for (
    const rule of [
      "default-src 'self'",
      "script-src 'self'",
      "frame-ancestors 'none'",
      "object-src 'none'",
    ]
  ) {
    assert.ok(csp.includes(rule), `CSP has ${rule}: ${csp}`);
  }
  const setCookie = page.headers.get("set-cookie") ?? "";
  assert.match(setCookie, /^__Host-batchgen_workspace=[^;]+;/, setCookie);
  assert.match(setCookie, /;\s*Secure(;|$)/i, setCookie);
  assert.match(setCookie, /;\s*HttpOnly(;|$)/i, setCookie);
  assert.match(setCookie, /;\s*Path=\/(;|$)/i, setCookie);
  assert.doesNotMatch(setCookie, /Domain=/i, "__Host- cookies have no Domain");
  assert.match(html, /<input type="password" id="api-key" name="apiKey"/);
  const cookie = cookiePair(setCookie);

  // The probes, through the proxy: /readyz checks the database and the
  // free disk under the narrow permissions.
  for (const probe of ["/healthz", "/readyz"]) {
    const response = await fetch(`${base}${probe}`, { client });
    const body = await response.text();
    assert.equal(response.status, 200, `${probe}: ${body}`);
  }

  const created = await fetch(`${base}/api/batches`, {
    client,
    method: "POST",
    headers: { cookie, "content-type": "application/json" },
    body: JSON.stringify({
      prompts: ["a red fox", `a calm sea [slow:${SLOW_MS}]`],
      model: "gemini-nano-banana-2.1",
    }),
  });
  const batch = await created.json();
  assert.equal(created.status, 201, JSON.stringify(batch));
  assert.equal(created.headers.get("strict-transport-security"), HSTS);

  const requestsBefore = fake.requests.length;
  const run = await fetch(`${base}/api/batches/${batch.id}/run`, {
    client,
    method: "POST",
    headers: { cookie, "x-goog-api-key": TEST_KEY },
  });
  assert.equal(run.status, 200);
  assert.equal(run.headers.get("strict-transport-security"), HSTS);
  assert.match(run.headers.get("content-type") ?? "", /application\/x-ndjson/);
  const events = await timedLines(run);
  const types = events.map((e) => e.value.type);
  assert.equal(types[0], "started", types.join(","));
  const last = events.at(-1)!.value as {
    type: string;
    batch: { status: string };
  };
  assert.equal(last.type, "batch", types.join(","));
  assert.equal(last.batch.status, "done");
  const firstImage = events.find((e) => e.value.type === "image-saved")!;
  assert.ok(
    events.at(-1)!.at - firstImage.at >= SLOW_MS * 0.6,
    `the first image's event came ${
      Math.round(events.at(-1)!.at - firstImage.at)
    } ms before the end: the proxy buffered the stream`,
  );
  const sent = fake.requests.slice(requestsBefore);
  assert.ok(sent.length >= 2, "the run reached the fake Google");
  for (const request of sent) {
    assert.equal(request.headers["x-goog-api-key"], TEST_KEY);
  }

  const record = await (await fetch(`${base}/api/batches/${batch.id}`, {
    client,
    headers: { cookie },
  })).json();
  assert.equal(record.items.length, 2);
  for (const item of record.items) {
    const image = await fetch(`${base}${item.image.url}`, {
      client,
      headers: { cookie },
    });
    const bytes = new Uint8Array(await image.arrayBuffer());
    assert.equal(image.status, 200);
    assert.equal(image.headers.get("content-type"), "image/png");
    assert.equal(bytes.length, item.image.bytes);
  }

  // Far above the 2 MB form limit: the proxy lets upload bodies through.
  const upload = new FormData();
  for (const name of ["a.png", "b.png", "c.png"]) {
    const png = await encodePng(16, 16, [200, 40, 40], 9_000_000);
    upload.append(
      "file",
      new File([png as Uint8Array<ArrayBuffer>], name, { type: "image/png" }),
    );
  }
  const uploaded = await fetch(`${base}/api/references`, {
    client,
    method: "POST",
    headers: { cookie },
    body: upload,
  });
  const uploadAnswer = await uploaded.text();
  assert.equal(uploaded.status, 201, uploadAnswer.slice(0, 300));
}

/**
 * A proxy site that serves plain HTTP in front of BatchGen (a mistake the
 * deploy/ files do not make): the page has no key field, and a key is
 * refused, even with forged X-Forwarded-* headers; Google is never called.
 */
export async function checkPlainHttpSite(base: string, fake: FakeGemini) {
  const calls = fake.requests.length;
  const page = await fetch(`${base}/`);
  const html = await page.text();
  assert.equal(page.status, 200, html.slice(0, 300));
  assert.doesNotMatch(html, /name="apiKey"/, "no key field to type into");
  assert.doesNotMatch(html, /id="api-key"/);
  assert.match(html, /No key field here/);
  assert.equal(page.headers.get("strict-transport-security"), null);
  const forged = {
    "x-goog-api-key": TEST_KEY,
    "x-forwarded-proto": "https",
    "x-forwarded-for": "127.0.0.1",
  };
  const check = await fetch(`${base}/api/keys/validate`, {
    method: "POST",
    headers: forged,
  });
  const answer = await check.json();
  assert.equal(check.status, 403, JSON.stringify(answer));
  assert.equal(answer.error.code, "insecure_transport");
  assert.equal(fake.requests.length, calls, "Google was called");
}

/** No line of a process's output holds the key. */
export function assertNoKey(what: string, lines: string[]) {
  for (const line of lines) {
    assert.equal(
      findKeyMaterial(line, TEST_KEY),
      undefined,
      `${what}: ${line}`,
    );
  }
}

/** Replaces `from` in `text`, failing when the deploy file no longer has it. */
export function replaceIn(
  file: string,
  text: string,
  from: string | RegExp,
  to: string,
): string {
  const replaced = text.replace(from, to);
  assert.notEqual(replaced, text, `${file} no longer has ${from}`);
  return replaced;
}

/** Waits until the proxy answers over TLS (its certificate in place). */
export async function waitForHttps(
  url: string,
  client: Deno.HttpClient,
  proxy: Started,
  name: string,
) {
  const until = Date.now() + 30_000;
  let last: unknown;
  while (Date.now() < until && proxy.exitCode === undefined) {
    try {
      const response = await fetch(url, { client });
      await response.body?.cancel();
      if (response.status !== 502) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `${name} never answered ${url}: ${last}\n${
      proxy.stderr.lines.slice(-20).join("\n")
    }`,
  );
}

/**
 * Plain HTTP to the proxy: only a redirect to the same name and path over
 * https://, for the page and for a request that carries a key alike, and
 * nothing reaches Google. (Caddy 2.6 leaves a non-default HTTPS port out of
 * the location, so only scheme, name and path are compared.)
 */
export async function checkPlainHttpRedirects(
  httpBase: string,
  fake: FakeGemini,
  statuses: readonly number[],
) {
  const calls = fake.requests.length;
  for (
    const [path, init] of [
      ["/", {}],
      ["/api/keys/validate", {
        method: "POST",
        headers: { "x-goog-api-key": TEST_KEY },
      }],
    ] as const
  ) {
    const response = await fetch(`${httpBase}${path}`, {
      ...init,
      redirect: "manual",
    });
    const body = await response.text();
    assert.ok(
      statuses.includes(response.status),
      `plain HTTP ${path}: ${response.status} ${body.slice(0, 200)}`,
    );
    const location = new URL(response.headers.get("location") ?? "");
    assert.equal(location.protocol, "https:", `${location}`);
    assert.equal(location.hostname, "localhost", `${location}`);
    assert.equal(location.pathname, path, `${location}`);
    assert.doesNotMatch(body, /api-key|apiKey/);
  }
  assert.equal(fake.requests.length, calls, "Google was called");
}

/** No key material in what the started programs printed. */
export function assertNoKeyInOutput(
  programs: readonly (readonly [string, Started | undefined])[],
) {
  for (const [what, started] of programs) {
    assertNoKey(`${what}'s log`, [
      ...started?.stdout.lines ?? [],
      ...started?.stderr.lines ?? [],
    ]);
  }
}
