/**
 * [gallery] [history] In a real browser: on a 390 px phone History is a list
 * of cards and the gallery two thumbnails a row, neither scrolls sideways and
 * both show the cost; a running batch's History row turns Done by itself.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { TEST_KEY } from "../_helpers.ts";
import { withBrowserApp } from "./_browser.ts";

const browserTest = { sanitizeOps: false, sanitizeResources: false };

/** Generates a batch from the form and waits for its end. */
async function generate(
  page: Page,
  url: string,
  prompts: string[],
  title = "",
) {
  await page.goto(url);
  await page.fill("#api-key", TEST_KEY);
  await page.fill("textarea[name=prompts]", prompts.join("\n"));
  if (title) await page.fill("input[name=title]", title);
  await page.click("button[type=submit]");
  await page.waitForSelector(".run-finished", { timeout: 20000 });
}

/** How far the page scrolls sideways (0: it does not). */
function sidewaysScroll(page: Page): Promise<number> {
  return page.evaluate(() =>
    document.documentElement.scrollWidth - globalThis.innerWidth
  );
}

/** Asserts that `selector`'s first element is shown whole, inside the viewport. */
async function assertInView(page: Page, selector: string) {
  const box = await page.locator(selector).first().boundingBox();
  assert.ok(box, `${selector} is shown`);
  const width = await page.evaluate(() => globalThis.innerWidth);
  assert.ok(box.width > 0 && box.height > 0, `${selector} has a size`);
  assert.ok(
    box.x >= 0 && box.x + box.width <= width,
    `${selector} fits the ${width} px screen: ${JSON.stringify(box)}`,
  );
}

Deno.test({
  name:
    "[gallery] at 390×844 History (cards) and the gallery (two a row) fit the screen, with the cost in view",
  ...browserTest,
  fn: () =>
    withBrowserApp(async ({ page, url, consoleErrors }) => {
      await page.setViewportSize({ width: 390, height: 844 });
      await generate(page, url, [
        "a red fox in fresh snow under a pale winter sun, telephoto, soft light",
        "a_prompt_without_any_spaces_that_goes_on_and_on_for_a_long_while",
        "a blue whale",
      ], "Supercalifragilisticexpialidocious-harbour-photographs-at-dusk");
      await generate(page, url, ["a quiet pond"]);

      await page.click("nav >> text=History");
      await page.waitForSelector("table.history tr.history-row img");
      assert.equal(await sidewaysScroll(page), 0, "History scrolls sideways");
      assert.equal(await page.locator("tr.history-row").count(), 2);
      // Each row is a card: thumbnail, title, status, images, model, cost, date.
      for (
        const part of [
          ".history-thumb img",
          ".history-batch > a",
          ".history-status .badge",
          ".history-count",
          ".history-model",
          ".history-cost",
          ".history-date",
        ]
      ) {
        await assertInView(page, `tr.history-row ${part}`);
      }
      assert.match(
        await page.locator("tr.history-row .history-cost").first()
          .textContent() ?? "",
        /^\$\d+\.\d+ of est\. \$\d+\.\d+/,
      );
      const [card1, card2] = await page.locator("tr.history-row").evaluateAll(
        (rows) => rows.map((r) => r.getBoundingClientRect().toJSON()),
      );
      assert.ok(card1.bottom <= card2.top, "cards stack, one a row");

      await page.click("nav >> text=Gallery");
      await page.waitForSelector("ul.gallery img");
      await page.waitForFunction(() =>
        [...document.querySelectorAll<HTMLImageElement>("ul.gallery img")]
          .slice(0, 2).every((img) => img.complete && img.naturalWidth > 0)
      );
      assert.equal(
        await sidewaysScroll(page),
        0,
        "the gallery scrolls sideways",
      );
      assert.equal(await page.locator("ul.gallery > li").count(), 4);
      const tops = await page.locator("ul.gallery > li").evaluateAll((cards) =>
        cards.map((c) => Math.round(c.getBoundingClientRect().top))
      );
      assert.equal(tops[0], tops[1], "two thumbnails a row");
      assert.ok(tops[2]! > tops[0]!);
      await assertInView(page, "ul.gallery > li:nth-child(2) .gallery-cost");
      await assertInView(page, "ul.gallery > li:nth-child(2) .gallery-batch");
      assert.match(
        await page.locator(".gallery-cost").first().textContent() ?? "",
        /^\$\d+\.\d+$/,
      );

      // The filters fit and work, boosted (no reload) or not.
      await page.evaluate(() =>
        (globalThis as unknown as { stay: boolean }).stay = true
      );
      await page.fill("input[name=q]", "fox");
      await page.click("form.gallery-filters button[type=submit]");
      await page.waitForFunction(() =>
        document.querySelectorAll("ul.gallery > li").length === 1
      );
      assert.match(page.url(), /\/gallery\?q=fox/);
      assert.equal(
        await page.evaluate(() =>
          (globalThis as unknown as { stay?: boolean }).stay
        ),
        true,
        "filtered without a reload",
      );
      assert.equal(await sidewaysScroll(page), 0);

      // The other pages of the navigation fit too.
      for (const link of ["New batch", "Your key"]) {
        await page.click(`nav >> text=${link}`);
        await page.waitForLoadState("networkidle");
        assert.equal(await sidewaysScroll(page), 0, `${link} scrolls sideways`);
      }
      assert.deepEqual(consoleErrors, []);
    }),
});

Deno.test({
  name:
    "[history] a running batch's row changes from Running to Done without a reload",
  ...browserTest,
  fn: () =>
    withBrowserApp(async ({ page, url, consoleErrors }) => {
      await page.goto(url);
      await page.fill("#api-key", TEST_KEY);
      await page.fill("textarea[name=prompts]", "a heron [slow:2500]");
      await page.click("button[type=submit]");
      await page.waitForSelector(".summary[data-status=running]");
      const batchId = page.url().split("/").at(-1)!;

      await page.click("nav >> text=History");
      const row = `tr#history-${batchId}`;
      await page.waitForSelector(`${row}[data-status=running]`);
      assert.equal(
        await page.textContent(`${row} .badge`),
        "Running",
      );
      assert.equal(await page.locator(`${row} img`).count(), 0);
      await page.evaluate(() =>
        (globalThis as unknown as { stay: boolean }).stay = true
      );

      await page.waitForSelector(`${row}[data-status=done]`, {
        timeout: 15000,
      });
      assert.equal(await page.textContent(`${row} .badge`), "Done");
      assert.equal(
        await page.evaluate(() =>
          (globalThis as unknown as { stay?: boolean }).stay
        ),
        true,
        "the row changed in place, not by a reload",
      );
      assert.match(page.url(), /\/history$/);
      await page.waitForSelector(`${row} img`);
      assert.match(
        await page.textContent(`${row} .history-count`) ?? "",
        /1\/1/,
      );
      // Done: the row no longer polls.
      assert.equal(
        await page.getAttribute(row, "hx-trigger"),
        null,
      );
      assert.deepEqual(consoleErrors, []);
    }),
});
