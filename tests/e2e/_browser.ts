/** Browser-test helpers: a real server on a random port and a real Chromium. */
import { type Browser, chromium, type Page } from "playwright-core";
import { findChromium } from "../browser_path.ts";
import { startTestApp, type TestApp } from "../_helpers.ts";
import type { FakeGeminiOptions } from "../fake_gemini.ts";

// Without these, Chromium floods the closed network with connection attempts.
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

export interface BrowserApp {
  t: TestApp;
  url: string;
  browser: Browser;
  page: Page;
  /** Every response the page received: url, headers and body text. */
  responses: { url: string; headers: Record<string, string>; body: string }[];
  /** Every request URL the page sent. */
  requestUrls: string[];
  consoleErrors: string[];
}

/** Serves the app over HTTP on loopback, opens a page, runs `fn`, cleans up. */
export async function withBrowserApp(
  fn: (b: BrowserApp) => Promise<void>,
  { fake }: { fake?: FakeGeminiOptions } = {},
) {
  await using t = await startTestApp({ fake });
  await using server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (request, info) => t.app.fetch(request, { remoteAddr: info.remoteAddr }),
  );
  const url = `http://127.0.0.1:${server.addr.port}`;
  const executablePath = findChromium();
  if (!executablePath) {
    throw new Error(
      "No Chromium: run `deno task test` (it installs one) or set CHROMIUM_PATH",
    );
  }
  const browser = await chromium.launch({
    executablePath,
    args: CHROMIUM_ARGS,
  });
  const userDataContext = await browser.newContext();
  const page = await userDataContext.newPage();
  const responses: BrowserApp["responses"] = [];
  const requestUrls: string[] = [];
  const consoleErrors: string[] = [];
  page.on("request", (request) => void requestUrls.push(request.url()));
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => void consoleErrors.push(String(error)));
  page.on("response", async (response) => {
    let body = "";
    try {
      body = await response.text();
    } catch {
      // Streams cut by navigation have no body to read.
    }
    responses.push({
      url: response.url(),
      // The browser may close while a stream is still open (a run's SSE).
      headers: await response.allHeaders().catch(() => ({})),
      body,
    });
  });
  try {
    await fn({ t, url, browser, page, responses, requestUrls, consoleErrors });
  } catch (error) {
    const html = await page.content().catch(() => "(no page)");
    throw new Error(
      `${error instanceof Error ? error.stack : error}\n--- page ---\n${
        html.slice(0, 6000)
      }`,
    );
  } finally {
    await userDataContext.close().catch(() => {});
    await browser.close().catch(() => {});
  }
}
