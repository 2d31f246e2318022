/** [e2e] Paste a key, run 3 prompts × 2 images, watch 6 images arrive — key never kept. */
import assert from "node:assert/strict";
import { TEST_KEY } from "../_helpers.ts";
import { withBrowserApp } from "./_browser.ts";

Deno.test({
  name:
    "[e2e] a batch of 3 prompts × 2 images fills the grid; no browser storage holds the key",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withBrowserApp(async ({ page, url, consoleErrors }) => {
      await page.goto(url);
      await page.fill("#api-key", TEST_KEY);
      await page.fill(
        "textarea[name=prompts]",
        "a red fox\na blue whale\na green frog",
      );
      await page.fill("input[name=imagesPerPrompt]", "2");
      await page.click("button[type=submit]");
      await page.waitForSelector(".tile img", { timeout: 15000 });
      await page.waitForFunction(
        () => document.querySelectorAll(".tile img").length === 6,
        null,
        { timeout: 20000 },
      );
      await page.waitForSelector(".run-finished", { timeout: 20000 });
      const loaded = await page.$$eval(".tile img", (imgs) =>
        imgs.map((img) => (img as HTMLImageElement).naturalWidth));
      assert.equal(loaded.length, 6);
      assert.ok(loaded.every((w) =>
        w > 0
      ));
      assert.match(await page.textContent(".summary") ?? "", /6 done/);
      assert.match(page.url(), /\/batches\/[a-z0-9]+$/);

      const stored = await page.evaluate(async () => {
        const dbs = await indexedDB.databases();
        const caches_ = await caches.keys();
        return {
          local: JSON.stringify({ ...localStorage }),
          session: JSON.stringify({ ...sessionStorage }),
          cookie: document.cookie,
          indexedDb: JSON.stringify(dbs),
          caches: JSON.stringify(caches_),
          history: JSON.stringify(history.state),
        };
      });
      const cookies = await page.context().cookies();
      for (
        const [where, value] of Object.entries({
          ...stored,
          cookies: JSON.stringify(cookies),
        })
      ) {
        assert.ok(
          !value.includes(TEST_KEY.slice(0, 12)),
          `${where} holds key material`,
        );
      }
      await page.reload();
      assert.equal(await page.inputValue("#api-key"), "");
      assert.deepEqual(consoleErrors.filter((e) => !e.includes("favicon")), []);
    }),
});
