/**
 * Regenerates the README's screenshots (docs/screenshots/) in a real
 * Chromium against the fake Gemini: the new-batch form, a running batch, a
 * finished batch with blocked and failed tiles, the viewer, the gallery and
 * History, at 1280×800 and 390×844. Slow and writes into the repository, so
 * it runs only with `deno task screenshots` (BATCHGEN_SCREENSHOTS=1).
 */
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { TEST_KEY } from "../_helpers.ts";
import { withBrowserApp } from "./_browser.ts";

const OUT = fileURLToPath(new URL("../../docs/screenshots/", import.meta.url));
const SIZES = [[1280, 800], [390, 844]] as const;

async function shoot(page: Page, name: string, width: number) {
  await page.screenshot({
    path: `${OUT}${name}-${width}.png`,
    fullPage: false,
  });
}

Deno.test({
  name: "[screenshots] the README's screenshots, at 1280 and 390 px",
  ignore: Deno.env.get("BATCHGEN_SCREENSHOTS") !== "1",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withBrowserApp(async ({ page, url }) => {
      await Deno.mkdir(OUT, { recursive: true });
      for (const [width, height] of SIZES) {
        await page.setViewportSize({ width, height });
        await page.goto(url);
        await page.fill("#api-key", TEST_KEY);
        await page.click(".keybar button");
        await page.waitForSelector("#key-status .key-ok");
        await page.fill(
          "textarea[name=prompts]",
          [
            "a lighthouse at dawn, watercolour",
            "a fox in fresh snow, photograph",
            "a tram in the rain, ink drawing",
          ].join("\n"),
        );
        await page.waitForSelector(".estimate-total");
        await shoot(page, "new-batch", width);

        // A running batch: slow answers, caught half way.
        await page.fill(
          "textarea[name=prompts]",
          [
            "a heron in the reeds",
            "a heron at dusk [slow:4000]",
            "a heron flying [slow:4000]",
            "a heron fishing [slow:4000]",
          ].join("\n"),
        );
        await page.click("#batch-form button[type=submit]");
        await page.waitForSelector(".tile img");
        await shoot(page, "running", width);
        const running = page.url().split("/").pop()!;
        await page.waitForSelector(`#run-ended-${running}.run-finished`, {
          timeout: 30000,
        });

        // A finished batch with done, blocked and failed tiles.
        await page.goto(url);
        await page.fill("#api-key", TEST_KEY);
        await page.fill(
          "textarea[name=prompts]",
          [
            "a kestrel hovering",
            "a kestrel on a post [block:IMAGE_SAFETY]",
            "a kestrel diving [status:400]",
            "a kestrel's nest",
          ].join("\n"),
        );
        await page.click("#batch-form button[type=submit]");
        await page.waitForURL(/\/batches\/[a-z0-9]+$/);
        const done = page.url().split("/").pop()!;
        await page.waitForSelector(`#run-ended-${done}.run-finished`, {
          timeout: 30000,
        });
        await shoot(page, "finished", width);

        await page.click(".tile img");
        await page.waitForSelector("dialog[open]");
        await shoot(page, "viewer", width);
        await page.keyboard.press("Escape");

        await page.goto(`${url}/gallery`);
        await page.waitForSelector("img");
        await shoot(page, "gallery", width);
        await page.goto(`${url}/history`);
        await shoot(page, "history", width);
      }
    }),
});
