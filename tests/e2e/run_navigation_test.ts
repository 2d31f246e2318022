/**
 * [e2e] The run belongs to the page header: moving to History and back does
 * not interrupt it. Prompts can come from an uploaded CSV file.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { TEST_KEY } from "../_helpers.ts";
import { BAD_KEY } from "../_key_leaks.ts";
import { countRows } from "../_html.ts";
import { withBrowserApp } from "./_browser.ts";

const browserTest = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name:
    "[e2e] a run keeps streaming while the user visits History and comes back",
  ...browserTest,
  fn: () =>
    withBrowserApp(async ({ page, url }) => {
      await page.goto(url);
      await page.fill("#api-key", TEST_KEY);
      await page.fill(
        "textarea[name=prompts]",
        Array.from({ length: 6 }, (_, i) => `a slow lighthouse ${i} [slow:700]`)
          .join("\n"),
      );
      await page.fill("input[name=concurrency]", "2");
      await page.click("button[type=submit]");
      await page.waitForSelector(".tile img");
      const batchUrl = page.url();
      await page.click("nav >> text=History");
      await page.waitForSelector("table.history");
      assert.match(await page.textContent("#activity") ?? "", /of 6 images/);
      await page.goBack();
      await page.waitForSelector(".grid");
      assert.equal(page.url(), batchUrl);
      await page.waitForSelector(".run-finished", { timeout: 20000 });
      // The page shown after coming back is updated live to the end.
      await page.waitForFunction(() =>
        document.querySelectorAll(".tile img").length === 6
      );
      assert.match(await page.textContent(".summary") ?? "", /6 done/);
      assert.equal(
        await page.inputValue("#api-key"),
        TEST_KEY,
        "the key stays in the tab",
      );
    }),
});

Deno.test({
  name: "[e2e] prompts uploaded as a CSV file are generated",
  ...browserTest,
  fn: () =>
    withBrowserApp(async ({ page, url }) => {
      await page.goto(url);
      await page.fill("#api-key", TEST_KEY);
      await page.setInputFiles("input[name=promptsFile]", {
        name: "prompts.csv",
        mimeType: "text/csv",
        buffer: Buffer.from('prompt\n"a fox, in snow"\na whale\n'),
      });
      await page.click("button[type=submit]");
      await page.waitForSelector(".run-finished", { timeout: 20000 });
      const prompts = await page.$$eval(".tile-prompt", (els) =>
        els.map((e) => e.textContent));
      assert.deepEqual(prompts, ["a fox, in snow", "a whale"]);
      assert.equal(await page.locator(".tile img").count(), 2);
    }),
});

Deno.test({
  name:
    "[e2e] Generate without a key, or with one Google refuses, saves nothing and says what to do; with the key it runs",
  ...browserTest,
  fn: () =>
    withBrowserApp(async ({ page, url, t }) => {
      await page.goto(url);
      await page.fill("textarea[name=prompts]", "a quiet pond");
      await page.click("button[type=submit]");
      await page.waitForSelector(".field-error");
      assert.match(
        await page.textContent(".field-error") ?? "",
        /Paste your Gemini API key first\. Generate saves the batch only with a key/,
      );
      assert.match(page.url(), /\/$/, "still on the form");
      assert.equal(
        await page.inputValue("textarea[name=prompts]"),
        "a quiet pond",
        "what was typed is kept",
      );
      // A key of the right shape that Google refuses: still nothing saved.
      await page.fill("#api-key", BAD_KEY);
      await page.click("button[type=submit]");
      await page.waitForSelector(".field-error:has-text('Google rejected')");
      assert.equal(await countRows(t, "batches"), 0, "no batch saved");

      await page.fill("#api-key", TEST_KEY);
      await page.click("button[type=submit]");
      await page.waitForSelector(".run-finished", { timeout: 20000 });
      assert.equal(await page.locator(".tile img").count(), 1);
      // One name for the action everywhere: no "Run" button anywhere.
      assert.equal(await page.locator("button:text-is('Run')").count(), 0);
    }),
});
