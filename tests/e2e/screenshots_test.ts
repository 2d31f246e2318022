/**
 * Regenerates the README's screenshots (docs/screenshots/) in a real
 * Chromium against the fake Gemini: the new-batch form, a running batch, a
 * finished batch with blocked and failed tiles, the viewer, the gallery,
 * History, and authoring (a table upload with references and a matrix in the
 * form's preview, then its compare grid), and Batch mode (the form with
 * "Batch" chosen, a batch waiting at Google with the key in the field and
 * after a reload without it), at 1280×800 and 390×844. Slow and writes into
 * the repository, so it runs only with `deno task screenshots`
 * (BATCHGEN_SCREENSHOTS=1).
 */
import { Buffer } from "node:buffer";
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

/** A table whose rows carry their own settings and references. */
const TABLE = [
  "prompt,model,aspect_ratio,count,name,references",
  "a lighthouse at dawn in the style of the reference,gemini-nano-banana-2.1,16:9,2,lighthouse,harbour.jpg",
  "a fox in fresh snow with the palette of both references,gemini-3-pro-image,1:1,1,fox,harbour.jpg;palette.jpg",
  `"a tram in the rain, ink drawing",,3:4,1,tram,`,
].join("\n");

/** A small JPEG that looks like a picture, drawn by the browser. */
async function referenceJpeg(page: Page, hue: number): Promise<Buffer> {
  const dataUrl = await page.evaluate((hue) => {
    const canvas = document.createElement("canvas");
    canvas.width = 96;
    canvas.height = 64;
    const g = canvas.getContext("2d")!;
    const sky = g.createLinearGradient(0, 0, 96, 64);
    sky.addColorStop(0, `hsl(${hue} 70% 62%)`);
    sky.addColorStop(1, `hsl(${hue + 60} 55% 30%)`);
    g.fillStyle = sky;
    g.fillRect(0, 0, 96, 64);
    g.fillStyle = "rgba(255, 255, 255, 0.75)";
    g.beginPath();
    g.arc(30, 26, 12, 0, 2 * Math.PI);
    g.fill();
    return canvas.toDataURL("image/jpeg", 0.85);
  }, hue);
  return Buffer.from(Uint8Array.fromBase64(dataUrl.split(",")[1]!));
}

/** Scrolls so the element is in the middle of the viewport. */
async function centre(page: Page, selector: string) {
  await page.$eval(
    selector,
    (el) => el.scrollIntoView({ block: "center", behavior: "instant" }),
  );
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

        // Authoring: a table with per-row settings, two references and a
        // matrix of two models, previewed before anything is saved.
        await page.goto(url);
        await page.fill("#api-key", TEST_KEY);
        await page.setInputFiles("input[name=promptsFile]", {
          name: "prompts.csv",
          mimeType: "text/csv",
          buffer: Buffer.from(TABLE),
        });
        await page.setInputFiles("input[name=references]", [
          {
            name: "harbour.jpg",
            mimeType: "image/jpeg",
            buffer: await referenceJpeg(page, 200),
          },
          {
            name: "palette.jpg",
            mimeType: "image/jpeg",
            buffer: await referenceJpeg(page, 20),
          },
        ]);
        await page.click("details.more > summary");
        await page.check(
          `input[name=matrixModel][value="gemini-nano-banana-2.1"]`,
        );
        await page.check(`input[name=matrixModel][value="gemini-3-pro-image"]`);
        await page.waitForFunction(() =>
          document.querySelectorAll(".preview-table tbody tr").length === 6
        );
        await centre(page, "#estimate");
        await shoot(page, "authoring-preview", width);

        await page.click("#batch-form button[type=submit]");
        await page.waitForURL(/\/batches\/[a-z0-9]+$/);
        const matrix = page.url().split("/").pop()!;
        await page.waitForSelector(`#run-ended-${matrix}.run-finished`, {
          timeout: 30000,
        });
        await page.waitForFunction(() =>
          document.querySelectorAll("table.compare .tile img").length === 8
        );
        // From the server, as a visitor would open it.
        await page.goto(`${url}/batches/${matrix}`);
        await page.waitForSelector("table.compare .tile img");
        if (width < 600) await centre(page, ".references-list");
        // "More like this" shows on the hovered image.
        await page.hover("table.compare .tile");
        await page.waitForTimeout(300);
        await shoot(page, "compare", width);

        await batchMode(page, url, width);
      }
    }, { fake: { batch: { getsPerState: 1000 } } }),
});

/**
 * Batch mode: the form with "Batch" chosen (both estimates), then the
 * batch waiting at Google with the key in the field, and after a reload
 * without it (the page asks for the key). The fake keeps the job pending.
 */
async function batchMode(page: Page, url: string, width: number) {
  await page.goto(url);
  await page.fill("#api-key", TEST_KEY);
  await page.fill(
    "textarea[name=prompts]",
    [
      "a lighthouse at dawn, watercolour",
      "a fox in fresh snow, photograph",
      "a tram in the rain, ink drawing",
      "a heron in the reeds, woodcut",
    ].join("\n"),
  );
  await page.fill("input[name=imagesPerPrompt]", "2");
  await page.check("input[name=mode][value=batch]");
  await page.waitForFunction(() =>
    /8 images/.test(
      document.querySelector(".estimate-body")?.textContent ?? "",
    )
  );
  await centre(page, "fieldset.mode-choice");
  await shoot(page, "batch-mode-form", width);

  await page.click("#batch-form button[type=submit]");
  await page.waitForURL(/\/batches\/[a-z0-9]+$/);
  // Drawn afresh once submitted, then checked once with the key.
  await page.waitForSelector(".sync-poller");
  await page.waitForFunction(() =>
    document.querySelectorAll(".tile-submitted").length === 8
  );
  await page.waitForLoadState("networkidle");
  if (width < 600) await centre(page, ".sync-poller");
  await shoot(page, "batch-at-google", width);

  await page.reload();
  await page.waitForSelector(".sync-poller.sync-needs-key");
  if (width < 600) await centre(page, ".sync-poller");
  await shoot(page, "batch-at-google-no-key", width);
}
