/**
 * [e2e] Batch mode in a real browser (issue #12): choose "Batch", see both
 * estimates (Batch at half the price), Generate with the key → the batch is
 * At Google; reload (the key is gone) → the page asks for the key and
 * nothing reaches Google; paste it → the page checks (Check now to keep the
 * test fast) and the images arrive, Done, with their cost. No browser store,
 * URL or response holds the key afterwards.
 */
import assert from "node:assert/strict";
import type { Page, Response } from "playwright-core";
import { TEST_KEY } from "../_helpers.ts";
import { LeakScan } from "../_key_leaks.ts";
import { type BrowserApp, withBrowserApp } from "./_browser.ts";

const PROMPTS = ["a red fox", "a blue whale", "a green frog"];

/** "$0.0336" → 0.0336. */
function usd(text: string | null): number {
  const match = /\$(\d+(?:\.\d+)?)/.exec(text ?? "");
  assert.ok(match, `no dollar figure in ${JSON.stringify(text)}`);
  return Number(match[1]);
}

function isSync(response: Response): boolean {
  return /\/batches\/[a-z0-9]+\/sync\b/.test(response.url());
}

/** Presses Check now and waits for its answer. */
async function checkNow(page: Page): Promise<void> {
  await Promise.all([
    page.waitForResponse(isSync),
    page.click(".sync-poller button:has-text('Check now')"),
  ]);
}

/** Everything the browser keeps that the page can read, and its cookies. */
async function browserStores(b: BrowserApp): Promise<Record<string, string>> {
  const stores = await b.page.evaluate(async () => ({
    localStorage: JSON.stringify({ ...localStorage }),
    sessionStorage: JSON.stringify({ ...sessionStorage }),
    "document.cookie": document.cookie,
    indexedDB: JSON.stringify(await indexedDB.databases()),
    cacheStorage: JSON.stringify(await caches.keys()),
    "history.state": JSON.stringify(history.state) ?? "",
    "location.href": location.href,
  }));
  const cookies = JSON.stringify(await b.page.context().cookies());
  return { ...stores, "context cookies": cookies };
}

Deno.test({
  name:
    "[e2e] Batch mode: submit, reload (key gone), the page asks for the key, paste it, the images arrive",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withBrowserApp(async (b) => {
      const { page, url, t } = b;
      await page.goto(url);
      await page.fill("#api-key", TEST_KEY);
      await page.fill("textarea[name=prompts]", PROMPTS.join("\n"));

      // "When": Batch. Both estimates show; Batch is half of Now.
      await page.check("input[name=mode][value=batch]");
      await page.waitForSelector(".estimate-later .estimate-batch");
      await page.waitForFunction(() =>
        /3 images/.test(
          document.querySelector(".estimate-body")?.textContent ?? "",
        )
      );
      assert.ok(await page.isVisible(".estimate-now .estimate-total"));
      assert.ok(await page.isVisible(".estimate-later .estimate-batch"));
      const now = usd(await page.textContent(".estimate-total"));
      const later = usd(await page.textContent(".estimate-batch"));
      const exact = Number(
        await page.getAttribute(".estimate-body", "data-total"),
      );
      assert.ok(exact > 0, "an estimate");
      assert.ok(Math.abs(now - exact) / exact < 0.01, `${now} vs ${exact}`);
      assert.ok(
        Math.abs(later - exact / 2) / (exact / 2) < 0.01,
        `Batch ${later} is not half of ${exact}`,
      );
      assert.match(
        await page.innerText(".estimate-body"),
        /Now: about \$[\d.]+ per image, \$[\d.]+ in total\s+Batch mode: about \$[\d.]+ per image, \$[\d.]+ in total/,
      );
      assert.equal(
        (await page.innerText("#batch-form button[type=submit]")).trim(),
        "Generate (submit to Google)",
      );

      // Generate: submitted to Google, nothing generated now.
      await page.click("#batch-form button[type=submit]");
      await page.waitForURL(/\/batches\/[a-z0-9]+$/);
      const id = page.url().split("/").pop()!;
      await page.waitForSelector(`#summary-${id}[data-status=submitted]`);
      assert.equal(
        (await page.innerText(`#summary-${id} .badge`)).trim(),
        "At Google",
      );
      assert.equal(t.fake.batchJobs().length, 1, "one job at Google");
      assert.equal(t.fake.batchJobs()[0]!.requestCount, PROMPTS.length);
      assert.equal(t.fake.stats().generate, 0, "no image asked for now");
      // The page is drawn afresh once: tiles at Google, and the poller.
      await page.waitForSelector(".sync-poller");
      await page.waitForFunction(
        (n) => document.querySelectorAll(".tile-submitted").length === n,
        PROMPTS.length,
      );
      assert.match(
        await page.textContent(".settings") ?? "",
        /Batch mode/,
      );

      // Reload: the key is gone; the page asks for it, and checks nothing.
      await page.reload();
      assert.equal(await page.inputValue("#api-key"), "", "reload keeps a key");
      await page.waitForSelector(".sync-poller.sync-needs-key");
      assert.equal(
        await page.getAttribute(`#summary-${id}`, "data-status"),
        "submitted",
      );
      const asking = await page.innerText(".sync-poller");
      assert.match(
        asking,
        /Waiting at Google since \d\d:\d\d UTC\. Paste your key in the field above/,
      );
      const seen = t.fake.requests.length;
      await checkNow(page);
      await page.waitForSelector(".sync-poller.sync-needs-key");
      assert.equal(t.fake.requests.length, seen, "no key, no call to Google");

      // Paste the key: the page checks at once, then Check now until done.
      const pasted = page.waitForResponse(isSync);
      await page.fill("#api-key", TEST_KEY);
      await pasted;
      await page.waitForSelector(".sync-poller:not(.sync-needs-key)");
      assert.ok(t.fake.requests.length > seen, "the paste checked at Google");
      for (let i = 0; i < 6; i++) {
        const status = await page.getAttribute(
          `#summary-${id}`,
          "data-status",
        );
        if (status !== "submitted") break;
        await checkNow(page);
      }
      await page.waitForSelector(`#summary-${id}[data-status=done]`);
      assert.equal(await page.locator(".sync-poller").count(), 0);
      await page.waitForFunction(
        (n) => {
          const imgs = [...document.querySelectorAll(".tile img")];
          return imgs.length === n &&
            imgs.every((img) => (img as HTMLImageElement).naturalWidth > 0);
        },
        PROMPTS.length,
      );
      const summary = await page.innerText(`#summary-${id}`);
      assert.match(summary, /Done/);
      assert.match(summary, new RegExp(`${PROMPTS.length} done`));
      const spent = Number(
        await page.getAttribute(`#summary-${id} .cost-figure`, "data-cost"),
      );
      assert.ok(spent > 0, `cost shown: ${summary}`);
      // At the Batch price: near the Batch estimate, far below Now's.
      assert.ok(spent < exact * 0.75, `${spent} is not at the Batch price`);
      assert.match(
        await page.innerText(`#summary-${id} .cost-spent`),
        /^\$\d/,
      );

      // K2: no browser store, URL or response holds the key.
      const scan = new LeakScan();
      for (const [where, text] of Object.entries(await browserStores(b))) {
        scan.add(`${where} (before reload)`, text);
      }
      await page.reload();
      assert.equal(await page.inputValue("#api-key"), "");
      for (const [where, text] of Object.entries(await browserStores(b))) {
        scan.add(`${where} (after reload)`, text);
      }
      b.requestUrls.forEach((u, i) => scan.add(`request URL ${i}`, u));
      b.responses.forEach((r, i) => {
        scan.add(`response ${i} body (${r.url})`, r.body);
        scan.add(`response ${i} headers (${r.url})`, JSON.stringify(r.headers));
      });
      scan.assertClean([TEST_KEY]);
      assert.deepEqual(
        b.consoleErrors.filter((e) => !e.includes("favicon")),
        [],
      );
    }, { fake: { batch: { getsPerState: 1 } } }),
});
