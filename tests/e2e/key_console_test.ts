/**
 * K2 in a real browser, when a request that carries the key fails. htmx 4
 * logs the request context (whose body held the pasted key) to the console
 * on a network failure, on its request timeout and when a swap throws. For
 * the Validate button and for a run element, and for a stopped server, a
 * reset connection, a request that never ends and a broken swap: no console
 * argument, serialised deeply (FormData and URLSearchParams entries
 * included), holds the key or any 8-character fragment of it, and the user
 * is told what went wrong.
 */
import assert from "node:assert/strict";
import {
  type Browser,
  chromium,
  type ConsoleMessage,
  type Page,
} from "playwright-core";
import { findChromium } from "../browser_path.ts";
import { startTestApp, TEST_KEY, type TestApp } from "../_helpers.ts";
import { LeakScan } from "../_key_leaks.ts";
import { CHROMIUM_ARGS } from "./_browser.ts";

/** htmx's request timeout in these tests (htmx's default is 60 s). */
const SHORT_TIMEOUT_MS = 1500;

/**
 * Runs in the page on one console argument: everything reachable from it as
 * JSON, including what a DevTools user could expand (FormData, URLSearchParams
 * and Headers entries, errors, events, signals, nested objects). Elements are
 * shown as their markup plus the live `value` of form controls; the walk does
 * not wander through the DOM from there. Self-contained: Playwright sends its
 * source to the page.
 */
function deepSerialise(root: unknown): string {
  const seen = new WeakSet<object>();
  const walk = (value: unknown, depth: number): unknown => {
    if (value === null || value === undefined) return String(value);
    if (typeof value === "string") return value;
    if (typeof value !== "object" && typeof value !== "function") {
      return String(value);
    }
    if (typeof value === "function") return `[function ${value.name}]`;
    if (depth > 16) return "[too deep]";
    const object = value as object;
    if (seen.has(object)) return "[seen]";
    seen.add(object);
    if (object === window) return "[window]";
    if (object === document) return "[document]";
    if (object instanceof Element) {
      const node: Record<string, unknown> = {
        element: object.outerHTML.slice(0, 4000),
      };
      if ("value" in object) node.value = walk(object.value, depth + 1);
      return node;
    }
    if (object instanceof Node) {
      return { node: object.nodeName, text: object.textContent };
    }
    const entries = (list: Iterable<[string, unknown]>) =>
      [...list].map(([k, v]) => [
        k,
        v instanceof File ? `[file ${v.name}]` : walk(v, depth + 1),
      ]);
    if (object instanceof FormData) return { FormData: entries(object) };
    if (object instanceof URLSearchParams) {
      return { URLSearchParams: entries(object) };
    }
    if (object instanceof Headers) return { Headers: entries(object) };
    if (object instanceof Map) return { Map: entries(object) };
    if (object instanceof Set) {
      return { Set: [...object].map((v) => walk(v, depth + 1)) };
    }
    if (object instanceof Promise) return "[promise]";
    if (object instanceof ArrayBuffer || ArrayBuffer.isView(object)) {
      const bytes = object instanceof ArrayBuffer
        ? new Uint8Array(object)
        : new Uint8Array(object.buffer, object.byteOffset, object.byteLength);
      return { bytes: new TextDecoder("latin1").decode(bytes) };
    }
    const out: Record<string, unknown> = {};
    if (object instanceof Error) {
      out.name = object.name;
      out.message = object.message;
      out.stack = object.stack;
      out.cause = walk(object.cause, depth + 1);
    } else if (object instanceof Event) {
      out.event = object.type;
      out.target = walk(object.target, depth + 1);
      if (object instanceof CustomEvent) {
        out.detail = walk(object.detail, depth + 1);
      }
    } else if (object instanceof AbortSignal) {
      out.aborted = object.aborted;
      out.reason = walk(object.reason, depth + 1);
    } else if (object instanceof Request || object instanceof Response) {
      out.url = object.url;
      out.headers = walk(object.headers, depth + 1);
    }
    for (const key of Object.getOwnPropertyNames(object)) {
      try {
        out[key] = walk((object as Record<string, unknown>)[key], depth + 1);
      } catch (error) {
        out[key] = `[unreadable: ${error}]`;
      }
    }
    return out;
  };
  return JSON.stringify(walk(root, 0));
}

interface Logged {
  type: string;
  text: string;
  args: string[];
  during: string;
}

/** Every console message of the page, each argument serialised deeply. */
class ConsoleRecorder {
  readonly logged: Logged[] = [];
  #pending: Promise<void>[] = [];
  during = "page load";

  constructor(page: Page) {
    page.on("console", (message) => {
      this.#pending.push(this.#record(message, this.during));
    });
    // An uncaught error is printed to the console too.
    page.on("pageerror", (error) => {
      this.logged.push({
        type: "pageerror",
        text: String(error.stack ?? error),
        args: [],
        during: this.during,
      });
    });
  }

  async #record(message: ConsoleMessage, during: string): Promise<void> {
    // Serialised right away: the arguments are live objects in the page.
    const args = await Promise.all(
      message.args().map((arg) =>
        arg.evaluate(deepSerialise).catch((error) => `UNSERIALISABLE ${error}`)
      ),
    );
    this.logged.push({
      type: message.type(),
      text: message.text(),
      args,
      during,
    });
  }

  /** Waits until a message logged during `during` matches `pattern`. */
  async waitFor(during: string, pattern: RegExp): Promise<Logged> {
    const until = Date.now() + 8000;
    while (Date.now() < until) {
      await Promise.all(this.#pending);
      const found = this.logged.find((entry) =>
        entry.during === during &&
        pattern.test(`${entry.text} ${entry.args.join(" ")}`)
      );
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(
      `No console message matching ${pattern} during "${during}"; got:\n${
        this.logged.filter((e) => e.during === during)
          .map((e) => `${e.type}: ${e.text}`).join("\n")
      }`,
    );
  }

  /** Fails if any message so far holds key material, or could not be read. */
  async assertNoKey(): Promise<void> {
    await Promise.all(this.#pending);
    const scan = new LeakScan();
    this.logged.forEach((entry, i) => {
      const where = `console ${entry.type} #${i} (during ${entry.during})`;
      scan.add(`${where} text`, entry.text);
      entry.args.forEach((arg, j) => {
        assert.ok(
          !arg.startsWith("UNSERIALISABLE"),
          `${where} arg ${j}: ${arg}`,
        );
        scan.add(`${where} arg ${j}`, arg);
      });
    });
    scan.assertClean([TEST_KEY]);
  }
}

/** How the server answers a request instead of the app (undefined: the app). */
type Fault = (
  request: Request,
  app: () => Promise<Response>,
) => Response | Promise<Response> | undefined;

interface Rig {
  t: TestApp;
  url: string;
  page: Page;
  log: ConsoleRecorder;
  /** Requests whose path matches are answered by `fault` until cleared. */
  setFault(path: RegExp | undefined, fault?: Fault): void;
  /** A fault: the request never ends (until the server stops). */
  hang: Fault;
  /** The server goes away (the browser's next request is refused). */
  stopServer(): Promise<void>;
  /** Loads `path` afresh with the key pasted and a short htmx timeout. */
  open(path: string): Promise<void>;
}

/** A real app behind a server the test can fault or stop, and a Chromium. */
async function withRig(fn: (rig: Rig) => Promise<void>) {
  await using t = await startTestApp();
  const closing = new AbortController();
  let faultPath: RegExp | undefined;
  let fault: Fault | undefined;
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (request, info) => {
      const app = () =>
        Promise.resolve(
          t.app.fetch(request, { remoteAddr: info.remoteAddr }),
        );
      const path = new URL(request.url).pathname;
      return (fault && faultPath?.test(path) && fault(request, app)) ||
        app();
    },
  );
  let stopped = false;
  const stopServer = async () => {
    if (stopped) return;
    stopped = true;
    closing.abort();
    await server.shutdown();
  };
  const executablePath = findChromium();
  if (!executablePath) {
    throw new Error(
      "No Chromium: run `deno task test` (it installs one) or set CHROMIUM_PATH",
    );
  }
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
    const page = await (await browser.newContext()).newPage();
    const url = `http://127.0.0.1:${server.addr.port}`;
    const log = new ConsoleRecorder(page);
    const open = async (path: string) => {
      await page.goto(url + path);
      await page.waitForFunction(() => "htmx" in globalThis);
      await page.evaluate((ms) => {
        (globalThis as unknown as {
          htmx: { config: { defaultTimeout: number } };
        }).htmx.config.defaultTimeout = ms;
      }, SHORT_TIMEOUT_MS);
      await page.fill("#api-key", TEST_KEY);
    };
    await fn({
      t,
      url,
      page,
      log,
      setFault(path, f) {
        faultPath = path;
        fault = f;
      },
      hang: () =>
        new Promise((resolve) => {
          closing.signal.addEventListener(
            "abort",
            () => resolve(new Response(null, { status: 503 })),
          );
        }),
      stopServer,
      open,
    });
  } catch (error) {
    const html = await browser?.contexts()[0]?.pages()[0]?.content()
      .catch(() => "(no page)");
    throw new Error(
      `${error instanceof Error ? error.stack : error}\n--- page ---\n${
        html?.slice(0, 6000)
      }`,
    );
  } finally {
    await browser?.close().catch(() => {});
    await stopServer();
  }
}

/** The app's own answer, with a header that makes htmx's swap throw. */
const brokenSwap: Fault = async (_request, app) => {
  const response = await app();
  const headers = new Headers(response.headers);
  headers.set("HX-Reswap", "no-such-swap-style");
  return new Response(response.body, { status: response.status, headers });
};

const browserTest = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name:
    "K2 no failure of a Validate request puts the key in the browser console (stopped server, reset connection, request that never ends, broken swap), and the user is told",
  ...browserTest,
  fn: () =>
    withRig(async ({ page, log, setFault, hang, stopServer, open }) => {
      await open("/");

      /** Presses Validate and returns the key status line's text. */
      const validate = async (scenario: string, expect: RegExp) => {
        log.during = scenario;
        await page.evaluate(() => {
          document.getElementById("key-status")!.replaceChildren();
        });
        await page.click(".keybar button");
        await page.waitForFunction(
          (source) =>
            new RegExp(source).test(
              document.getElementById("key-status")?.textContent ?? "",
            ),
          expect.source,
          { timeout: 8000 },
        );
        return await page.textContent("#key-status") ?? "";
      };

      /** A failure: htmx logged its request context, without the key. */
      const failure = async (scenario: string, message: RegExp) => {
        log.during = scenario;
        await page.evaluate(() => {
          document.getElementById("key-status")!.replaceChildren();
        });
        await page.click(".keybar button");
        const logged = await log.waitFor(scenario, /htmx:error/);
        // The whole request context was read, not just "[object Object]":
        // its body is there, with the other field Validate sends.
        await log.assertNoKey();
        const args = logged.args.join(" ");
        assert.match(args, /\/keys\/validate/);
        assert.match(args, /"URLSearchParams":\[[^}]*\["model","/);
        await page.waitForFunction(
          (source) =>
            new RegExp(source).test(
              document.getElementById("key-status")?.textContent ?? "",
            ),
          message.source,
          { timeout: 8000 },
        );
        assert.match(
          await page.getAttribute("#key-status > *", "role") ?? "",
          /alert/,
        );
      };

      // The key works: Validate sends it.
      assert.match(await validate("a good key", /Key works/), /Key works/);

      await page.route(
        "**/keys/validate",
        (route) => route.abort("connectionreset"),
      );
      await failure("a reset connection", /Could not reach BatchGen/);
      await page.unroute("**/keys/validate");

      setFault(/^\/keys\/validate$/, hang);
      await failure("a request that never ends", /did not answer in time/);

      setFault(/^\/keys\/validate$/, brokenSwap);
      await failure("a broken swap", /could not be shown/);

      // After all that, the key still travels.
      setFault(undefined);
      assert.match(
        await validate("a good key again", /Key works/),
        /Key works/,
      );

      await stopServer();
      await failure("a stopped server", /Could not reach BatchGen/);

      await log.assertNoKey();
      assert.equal(await page.inputValue("#api-key"), TEST_KEY);
    }),
});

Deno.test({
  name:
    "K2 no failure of a run request puts the key in the browser console (stopped server, reset connection, request that never ends, broken swap), and runs still start",
  ...browserTest,
  fn: () =>
    withRig(async ({ page, log, setFault, hang, stopServer, open }) => {
      const RUN = /^\/batches\/[a-z0-9]+\/run$/;

      /** Waits for the run element to say `message`, as an alert. */
      const runSays = async (batchId: string, message: RegExp) => {
        const selector = `#run-ended-${batchId}.run-refused`;
        await page.waitForSelector(selector, { timeout: 8000 });
        assert.match(await page.textContent(selector) ?? "", message);
        assert.equal(await page.getAttribute(selector, "role"), "alert");
      };

      /** A failure: htmx logged, the key is not in the console. */
      const logged = async (scenario: string, event: RegExp) => {
        const entry = await log.waitFor(scenario, event);
        await log.assertNoKey();
        return entry;
      };

      /** Opens the batch page and presses Run. */
      const pressRun = async (batchId: string, scenario: string) => {
        log.during = `${scenario} (opening the page)`;
        await open(`/batches/${batchId}`);
        log.during = scenario;
        await page.click(".summary .actions button.primary");
      };

      // A new batch whose run's first request meets a reset connection.
      log.during = "a reset connection";
      await open("/");
      await page.route(/\/batches\/[a-z0-9]+\/run\?/, (route) =>
        route.abort("connectionreset"));
      await page.fill("textarea[name=prompts]", "a red fox");
      await page.click("#batch-form button[type=submit]");
      await page.waitForURL(/\/batches\/[a-z0-9]+$/);
      const id = page.url().split("/").pop()!;
      const first = await logged("a reset connection", /htmx:error/);
      // The request context was read, body included.
      assert.match(first.args.join(" "), new RegExp(`/batches/${id}/run`));
      assert.match(first.args.join(" "), /"URLSearchParams":/);
      await runSays(id, /Could not reach BatchGen/);
      await page.unrouteAll();

      setFault(RUN, hang);
      await pressRun(id, "a request that never ends");
      await logged("a request that never ends", /htmx:error/);
      await runSays(id, /did not answer in time/);

      setFault(RUN, () =>
        new Response("<p>x</p>", {
          headers: {
            "content-type": "text/html; charset=utf-8",
            "HX-Reswap": "no-such-swap-style",
          },
        }));
      await pressRun(id, "a broken swap");
      await logged("a broken swap", /htmx:error/);
      await runSays(id, /could not be shown/);

      setFault(RUN, () =>
        new Response(
          `data: <hx-partial hx-target="#run-${id}" hx-swap="no-such-swap-style"><b>x</b></hx-partial>\n\n`,
          { headers: { "content-type": "text/event-stream" } },
        ));
      await pressRun(id, "a broken swap in the stream");
      await logged("a broken swap in the stream", /htmx:sse:error/);
      await runSays(id, /connection to BatchGen was lost/);

      // Without faults the run starts with the key and finishes.
      setFault(undefined);
      await pressRun(id, "a good run");
      await page.waitForSelector(`#run-ended-${id}.run-finished`, {
        timeout: 15000,
      });
      assert.match(await page.textContent(`#run-ended-${id}`) ?? "", /Done/);

      // The server goes away after the run element arrived, before it posts.
      log.during = "a stopped server";
      const runner = await page.evaluate(async (batchId) => {
        const response = await fetch(
          `/batches/${batchId}/runner?mode=resume`,
          { headers: { "HX-Request": "true" } },
        );
        return await response.text();
      }, id);
      assert.match(runner, /hx-post/);
      await stopServer();
      await page.evaluate((html) => {
        const activity = document.getElementById("activity")!;
        activity.replaceChildren();
        const template = document.createElement("template");
        template.innerHTML = html;
        const run = template.content.querySelector(".run")!;
        activity.append(run);
        (globalThis as unknown as {
          htmx: { process(elt: Element): void };
        }).htmx.process(run);
      }, runner);
      await logged("a stopped server", /htmx:error/);
      await runSays(id, /Could not reach BatchGen/);

      await log.assertNoKey();
    }),
});
