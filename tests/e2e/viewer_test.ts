/** [viewer] Clicking a tile's image opens it large with its prompt, settings and cost; arrows move, Esc closes. */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { TEST_KEY } from "../_helpers.ts";
import { DEFAULT_MODEL_ID, findModel } from "../../core/catalog.ts";
import { withBrowserApp } from "./_browser.ts";

const FIRST =
  "a red fox asleep in a snowy birch forest at first light, soft mist between the trunks, " +
  "tracks leading away towards a frozen stream";
const BLOCKED = "a shy owl [block:IMAGE_SAFETY]";
const THIRD = "a calm sea under a pale sky";

/** Text of one of the viewer's slots (the first, where a name repeats). */
function slot(page: Page, name: string) {
  return page.locator(`#viewer [data-viewer-slot=${name}]`).first();
}

/**
 * The id of the tile holding the focused element, waiting (up to 2 s) for it
 * to become `expected`: the viewer gives focus back as its dialog closes.
 */
async function focusedTileId(page: Page, expected: string) {
  const focused = () =>
    page.evaluate(() => document.activeElement?.closest(".tile")?.id ?? null);
  const until = Date.now() + 2000;
  let id = await focused();
  while (id !== expected && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 20));
    id = await focused();
  }
  return id;
}

/** Runs the three prompts in the page until the run has finished. */
async function runBatch(page: Page, url: string) {
  await page.goto(url);
  await page.fill("#api-key", TEST_KEY);
  await page.fill("textarea[name=prompts]", [FIRST, BLOCKED, THIRD].join("\n"));
  await page.fill("input[name=imagesPerPrompt]", "1");
  await page.click("button[type=submit]");
  await page.waitForSelector(".run-finished", { timeout: 20000 });
  await page.waitForFunction(
    () => document.querySelectorAll(".tile img").length === 2,
    null,
    { timeout: 20000 },
  );
  return await page.$$eval(".tile", (tiles) => tiles.map((t) => t.id));
}

Deno.test({
  name:
    "[viewer] a tile's image opens in the viewer with prompt, model and cost; arrows skip the blocked tile; Esc returns focus",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withBrowserApp(async ({ page, url, consoleErrors }) => {
      await page.setViewportSize({ width: 1280, height: 800 });
      const [firstTile, blockedTile, thirdTile] = await runBatch(page, url);
      assert.ok(firstTile && blockedTile && thirdTile);
      assert.equal(
        await page.locator(`#${blockedTile} [data-viewer-image]`).count(),
        0,
      );

      const firstLink = page.locator(`#${firstTile} a.tile-image`);
      const firstHref = await firstLink.getAttribute("href");
      // Near the top: on hover the caption grows over the image's lower part.
      await page.click(`#${firstTile} img`, { position: { x: 30, y: 30 } });
      const dialog = page.locator("dialog#viewer");
      await dialog.waitFor({ state: "visible" });
      assert.equal(
        await dialog.evaluate((d) => (d as HTMLDialogElement).open),
        true,
      );
      assert.match(
        page.url(),
        /\/batches\/[a-z0-9]+$/,
        "no navigation to the file",
      );
      assert.equal(await slot(page, "prompt").textContent(), FIRST);
      assert.equal(await slot(page, "position").textContent(), "#1.1");
      const info = await page.locator("#viewer .viewer-info").innerText();
      assert.ok(info.includes(findModel(DEFAULT_MODEL_ID)!.label), info);
      assert.match(info, /estimated Google usage, not a BatchGen charge/);
      assert.match(
        await slot(page, "cost").textContent() ?? "",
        /^\$\d|price unknown/,
      );
      assert.match(
        await slot(page, "tokens").textContent() ?? "",
        /\d+ prompt/,
      );
      const large = slot(page, "image");
      assert.equal(await large.getAttribute("src"), firstHref);
      await page.waitForFunction(() =>
        (document.querySelector("#viewer img") as HTMLImageElement)
          .naturalWidth > 0
      );
      const download = page.locator("#viewer a[data-viewer-slot=download]");
      assert.equal(await download.getAttribute("href"), firstHref);
      assert.equal(
        await download.getAttribute("download"),
        firstHref?.split("/").at(-1),
      );
      assert.ok(await download.isVisible());

      await page.keyboard.press("ArrowRight");
      assert.equal(await slot(page, "position").textContent(), "#3.1");
      assert.equal(await slot(page, "prompt").textContent(), THIRD);
      assert.equal(
        await download.getAttribute("href"),
        await page.locator(`#${thirdTile} a.tile-image`).getAttribute("href"),
      );
      await page.keyboard.press("ArrowRight");
      assert.equal(
        await slot(page, "position").textContent(),
        "#3.1",
        "stays at the last image",
      );
      await page.keyboard.press("ArrowLeft");
      assert.equal(
        await slot(page, "position").textContent(),
        "#1.1",
        "skips the blocked tile",
      );
      await page.keyboard.press("ArrowRight");

      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "hidden" });
      assert.equal(
        await focusedTileId(page, thirdTile),
        thirdTile,
        "focus on the tile last shown",
      );

      // By keyboard: Enter on a focused image opens it; Esc comes back to it.
      await firstLink.focus();
      await page.keyboard.press("Enter");
      await dialog.waitFor({ state: "visible" });
      assert.equal(await slot(page, "prompt").textContent(), FIRST);
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "hidden" });
      assert.equal(await focusedTileId(page, firstTile), firstTile);

      // The Close button (a dialog form, which htmx's boost leaves alone).
      await page.click(`#${thirdTile} img`, { position: { x: 30, y: 30 } });
      await dialog.waitFor({ state: "visible" });
      await page.click("#viewer button:text-is('Close')");
      await dialog.waitFor({ state: "hidden" });
      assert.equal(await focusedTileId(page, thirdTile), thirdTile);
      assert.match(page.url(), /\/batches\/[a-z0-9]+$/);
      assert.equal(page.context().pages().length, 1, "no new tab opened");

      assert.deepEqual(consoleErrors.filter((e) => !e.includes("favicon")), []);
    }),
});

Deno.test({
  name:
    "[viewer] the whole prompt shows on hover and on keyboard focus of a tile",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withBrowserApp(async ({ page, url, consoleErrors }) => {
      await page.setViewportSize({ width: 1280, height: 800 });
      const [firstTile] = await runBatch(page, url);
      // Move away first: the click on Generate may leave the mouse anywhere.
      await page.mouse.move(0, 0);
      const caption = page.locator(`#${firstTile} .tile-prompt`);
      const oneLine = (await caption.boundingBox())!.height;
      await page.hover(`#${firstTile} img`, { position: { x: 8, y: 8 } });
      assert.ok(
        (await caption.boundingBox())!.height > oneLine * 2,
        "wraps on hover",
      );
      await page.mouse.move(0, 0);
      assert.ok((await caption.boundingBox())!.height < oneLine * 1.5);
      await page.locator(`#${firstTile} a.tile-image`).focus();
      assert.ok(
        (await caption.boundingBox())!.height > oneLine * 2,
        "wraps on focus",
      );
      assert.deepEqual(consoleErrors.filter((e) => !e.includes("favicon")), []);
    }),
});
