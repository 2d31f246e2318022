/**
 * [e2e] Issue #5 in a real browser: a batch above the confirm threshold waits
 * for Start; the budget field next to Start/Resume caps the run, and raising
 * it before Resume lets the run go on.
 *
 * By hand (core/prices.json, fake usage as in tests/cost_test.ts): Pro 4K,
 * 2-character prompts: estimate per image 2000 × $120/1M + 1 × $2/1M =
 * $0.240002; 30 images → $7.20006 > $5. Actual per image: 0.24 + (5 text +
 * 86 thought) × $12/1M + 0.000002 = $0.241094.
 */
import assert from "node:assert/strict";
import { TEST_KEY } from "../_helpers.ts";
import { withBrowserApp } from "./_browser.ts";

Deno.test({
  name:
    "[e2e] confirm above $5, Start with a cap, stop at the cap, raise it and Resume",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withBrowserApp(async ({ page, url, t, consoleErrors }) => {
      await page.goto(url);
      await page.fill("#api-key", TEST_KEY);
      await page.fill(
        "textarea[name=prompts]",
        Array.from({ length: 10 }, (_, i) => `p${i}`).join("\n"),
      );
      await page.selectOption("select[name=model]", "gemini-3-pro-image");
      await page.waitForSelector("select[name=imageSize] option[value='4K']", {
        state: "attached",
      });
      await page.selectOption("select[name=imageSize]", "4K");
      await page.fill("input[name=imagesPerPrompt]", "3");
      // The live estimate confirms the form holds Pro, 4K and 3 per prompt.
      await page.waitForFunction(() =>
        document.querySelector(".estimate-total")?.textContent === "$7.20"
      );
      await page.click("button[type=submit]");

      await page.waitForSelector(".confirm-start");
      assert.match(
        await page.textContent(".confirm-start") ?? "",
        /This batch is estimated at \$7\.20 of Google usage\. Start it\?/,
      );
      assert.equal(t.fake.stats().generate, 0, "nothing started yet");

      // A cap of $0.50 with 4 in parallel: two requests reserve 0.480004;
      // a third would reach 0.720006. After both: 2 × 0.241094 = 0.482188,
      // + 0.240002 > 0.50 → stop with 2 images.
      await page.fill("input[name=budgetUsd]", "0.5");
      await page.click(".confirm-start button");
      await page.waitForSelector(".confirm-start", { state: "detached" });
      await page.waitForSelector(".run-finished", { timeout: 20000 });
      assert.match(
        await page.textContent(".summary") ?? "",
        /Stopped at your budget cap of \$0\.50: about \$0\.482 of estimated Google usage so far/,
      );
      assert.equal(await page.locator(".tile img").count(), 2);

      // Raise to $1.00 and Resume: 0.482188 + 2 × 0.240002 = 0.962192 ≤ 1
      // lets two more start; then 4 × 0.241094 = 0.964376 + 0.240002 > 1.
      await page.fill("input[name=budgetUsd]", "1");
      await page.click(".summary button:has-text('Resume')");
      await page.waitForFunction(
        () =>
          document.querySelectorAll(".tile img").length === 4 &&
          document.querySelector(".summary")?.getAttribute("data-status") ===
            "interrupted",
        null,
        { timeout: 20000 },
      );
      assert.match(
        await page.textContent(".summary") ?? "",
        /\$0\.964 so far of estimated \$7\.20 · cap \$1\.00/,
      );
      assert.equal(t.fake.stats().generate, 4);
      assert.deepEqual(consoleErrors, []);
    }),
});
