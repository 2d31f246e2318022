/**
 * K2 in a real browser: the key lives only in the password field of the open
 * tab. After validating, a good run, a run with an invalid key that Google
 * echoes, and History/back/forward/reload, no browser store, URL, response
 * body or header holds the key or any 8-character fragment of it, and the
 * field is empty after a reload.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { TEST_KEY } from "../_helpers.ts";
import { BAD_KEY, LeakScan } from "../_key_leaks.ts";
import { type BrowserApp, withBrowserApp } from "./_browser.ts";

/** Submits the new-batch form and waits for that batch's run to finish. */
async function runBatch(page: Page, prompts: string): Promise<string> {
  // Wait for the form the navigation swaps in, not the one already shown:
  // a textarea filled before the swap would be replaced by an empty one.
  await page.evaluate(() =>
    document.querySelector("textarea[name=prompts]")?.setAttribute(
      "data-stale",
      "",
    )
  );
  await page.click("nav a[href='/']");
  await page.waitForSelector("textarea[name=prompts]:not([data-stale])");
  const before = page.url();
  await page.fill("textarea[name=prompts]", prompts);
  await page.click("#batch-form button[type=submit]");
  await page.waitForURL((u) =>
    u.href !== before && /\/batches\/[a-z0-9]+$/.test(u.pathname)
  );
  const id = page.url().split("/").pop()!;
  await page.waitForSelector(
    `#run-ended-${id}.run-finished, #run-ended-${id}.run-refused`,
    {
      timeout: 20000,
    },
  );
  return id;
}

/** Everything the browser keeps that is readable from the page. */
async function browserStores(b: BrowserApp) {
  const stores = await b.page.evaluate(async () => {
    const cached: string[] = [];
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const request of await cache.keys()) {
        const response = await cache.match(request);
        cached.push(name, request.url, await response?.text() ?? "");
      }
    }
    return {
      localStorage: JSON.stringify({ ...localStorage }),
      sessionStorage: JSON.stringify({ ...sessionStorage }),
      "document.cookie": document.cookie,
      indexedDB: JSON.stringify(await indexedDB.databases()),
      cacheStorage: JSON.stringify(cached),
      "history.state": JSON.stringify(history.state) ?? "",
      "location.href": location.href,
      "serialized DOM": document.documentElement.outerHTML,
    };
  });
  const cookies = await b.page.context().cookies();
  return { ...stores, "context cookies": JSON.stringify(cookies), cookies };
}

Deno.test({
  name:
    "K2 the browser keeps the key only in the tab's field: no storage, cookie, URL, history or response holds it",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withBrowserApp(async (b) => {
      const { page, url } = b;
      await page.goto(url);
      assert.equal(
        await page.getAttribute("#api-key", "type"),
        "password",
        "the key field must be a password field",
      );

      // Validate a good key: the models it can use are shown.
      await page.fill("#api-key", TEST_KEY);
      await page.click(".keybar button");
      await page.waitForSelector("#key-status .key-ok");
      assert.match(await page.textContent("#key-status") ?? "", /Key works/);

      // A good run.
      const good = await runBatch(page, "a red fox\na blue whale");
      await page.waitForFunction(
        () => document.querySelectorAll(".tile img").length === 2,
        null,
        { timeout: 20000 },
      );
      assert.match(await page.textContent(`#run-ended-${good}`) ?? "", /Done/);

      // An invalid key whose Google error echoes it: shown, but scrubbed.
      await page.fill("#api-key", BAD_KEY);
      await page.click(".keybar button");
      await page.waitForSelector("#key-status .key-bad");
      const rejected = await page.textContent("#key-status") ?? "";
      assert.match(rejected, /API key not valid/);
      // Generate with it: nothing is saved, the form says why, scrubbed.
      await page.click("nav a[href='/']");
      await page.waitForSelector("textarea[name=prompts]");
      await page.fill("textarea[name=prompts]", "a grey heron");
      await page.click("#batch-form button[type=submit]");
      await page.waitForSelector(".field-error:has-text('Google rejected')");
      const failure = await page.textContent(".field-error") ?? "";
      assert.match(failure, /API key not valid/);
      const bad = good;

      // Move around: History, back, forward, reload.
      await page.fill("#api-key", TEST_KEY);
      await page.click("nav a[href='/history']");
      await page.waitForSelector(`main a[href='/batches/${good}']`);
      assert.equal(
        await page.inputValue("#api-key"),
        TEST_KEY,
        "in-app navigation keeps the key in the tab",
      );
      await page.click(`main a[href='/batches/${bad}']`);
      await page.waitForURL(new RegExp(`/batches/${bad}$`));
      await page.goBack();
      await page.waitForURL(/\/history$/);
      await page.goForward();
      await page.waitForURL(new RegExp(`/batches/${bad}$`));
      await page.waitForSelector(".tile");

      const scan = new LeakScan();
      const before = await browserStores(b);
      await page.reload();
      await page.waitForSelector("#api-key");
      assert.equal(
        await page.inputValue("#api-key"),
        "",
        "reload keeps the key",
      );
      await page.goto(`${url}/batches/${good}`);
      assert.equal(await page.inputValue("#api-key"), "");
      const after = await browserStores(b);

      for (
        const [moment, stores] of [["before reload", before], [
          "after reload",
          after,
        ]] as const
      ) {
        const { cookies, ...texts } = stores;
        for (const [where, text] of Object.entries(texts)) {
          if (moment === "before reload" && where === "serialized DOM") {
            // The typed value is a property, never an attribute: still checked.
            assert.doesNotMatch(text, /<input[^>]*type="password"[^>]*value=/);
          }
          scan.add(`${where} (${moment})`, text);
        }
        const workspace = cookies.filter((c) =>
          c.name === "batchgen_workspace"
        );
        assert.equal(workspace.length, 1, "the workspace cookie is set");
        assert.ok(workspace[0]!.httpOnly, "the workspace cookie is HttpOnly");
        assert.notEqual(workspace[0]!.value, TEST_KEY);
      }
      b.requestUrls.forEach((u, i) => scan.add(`request URL ${i}: ${u}`, u));
      b.responses.forEach((r, i) => {
        scan.add(`response ${i} body (${r.url})`, r.body);
        scan.add(`response ${i} headers (${r.url})`, JSON.stringify(r.headers));
      });
      assert.ok(b.responses.some((r) => r.body.includes("API key not valid")));
      assert.ok(b.requestUrls.length > 10, `${b.requestUrls.length} requests`);
      scan.assertClean([TEST_KEY, BAD_KEY]);
      assert.deepEqual(
        b.consoleErrors.filter((e) => !/favicon|status of 422/.test(e)),
        [],
      );
    }),
});
