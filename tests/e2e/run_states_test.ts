/**
 * [e2e] Run states never lie: a reload during a run (which ends it: the key
 * was only in the old tab) shows the batch interrupted with Resume within
 * seconds, and the activity bar keeps one line per batch, which can be
 * dismissed.
 */
import assert from "node:assert/strict";
import { TEST_KEY } from "../_helpers.ts";
import { withBrowserApp } from "./_browser.ts";

const browserTest = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name:
    "[e2e] a reload during a run shows the batch interrupted with Resume within seconds, tiles included",
  ...browserTest,
  fn: () =>
    withBrowserApp(async ({ page, url, t }) => {
      await page.goto(url);
      await page.fill("#api-key", TEST_KEY);
      await page.fill(
        "textarea[name=prompts]",
        "a slow heron [slow:8000]\na slow egret [slow:8000]",
      );
      await page.click("#batch-form button[type=submit]");
      await page.waitForURL(/\/batches\/[a-z0-9]+$/);
      const id = page.url().split("/").pop()!;
      await page.waitForSelector(".tile[data-status=running]");
      await page.reload();
      const started = Date.now();
      // Whatever the page first shows, it must settle on the truth.
      await page.waitForSelector(
        `#summary-${id}[data-status=interrupted]`,
        { timeout: 8000 },
      );
      assert.ok(Date.now() - started < 8000);
      assert.match(
        await page.textContent(`#summary-${id} .summary-message`) ?? "",
        /page was closed/,
      );
      assert.equal(
        await page.locator(`#summary-${id} button:text-is('Resume')`).count(),
        1,
      );
      assert.equal(
        await page.locator(`#summary-${id} button:text-is('Cancel')`).count(),
        0,
      );
      assert.equal(
        await page.locator(".tile[data-status=running]").count(),
        0,
        "no tile still says Generating…",
      );
      assert.equal(t.deps.activeRuns.has(id), false, "the run ended");
    }),
});

Deno.test({
  name:
    "[e2e] the activity bar keeps one line per batch, however often it is retried, and an ended line can be dismissed",
  ...browserTest,
  fn: () =>
    withBrowserApp(async ({ page, url }) => {
      await page.goto(url);
      await page.fill("#api-key", TEST_KEY);
      await page.fill("textarea[name=prompts]", "a fox\nan owl [status:400]");
      await page.click("#batch-form button[type=submit]");
      await page.waitForURL(/\/batches\/[a-z0-9]+$/);
      const id = page.url().split("/").pop()!;
      await page.waitForSelector(`#run-ended-${id}.run-finished`, {
        timeout: 20000,
      });
      for (let i = 0; i < 3; i++) {
        // The ended line now shown gives way to the new run's line.
        await page.evaluate(
          (line) => document.getElementById(line)?.setAttribute("data-old", ""),
          `run-ended-${id}`,
        );
        await page.click(`#summary-${id} button:text-is('Retry failed')`);
        await page.waitForSelector(`#run-ended-${id}[data-old]`, {
          state: "detached",
        });
        await page.waitForSelector(`#run-ended-${id}.run-finished`, {
          timeout: 20000,
        });
        assert.equal(
          await page.locator(`#activity .run[data-batch="${id}"]`).count(),
          1,
          `one line after retry ${i + 1}`,
        );
      }
      await page.click(`#run-ended-${id} .run-dismiss`);
      await page.waitForSelector(`#run-ended-${id}`, { state: "detached" });
      assert.equal(await page.locator("#activity .run").count(), 0);
    }),
});
