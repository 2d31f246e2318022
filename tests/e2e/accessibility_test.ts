/**
 * [a11y] axe-core in a real Chromium finds no serious or critical violation
 * on any page: the new-batch form (before and after Validate), a finished
 * batch with done, blocked and failed tiles, the image viewer open, History,
 * the gallery, "Your key" and a not-found page, at desktop and phone width;
 * and authoring: the form previewing a table with a reference and a matrix
 * (and a problem with it), and the compare grid of such a batch; and Batch
 * mode: the form with "Batch" chosen, and a batch waiting at Google, without
 * a key (the page asks for it) and with one.
 * axe is injected by the test (the app's CSP allows no inline script, so the
 * test's context bypasses CSP for the injection only).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import axe from "axe-core";
import type { Page } from "playwright-core";
import { TEST_KEY } from "../_helpers.ts";
import { withBrowserApp } from "./_browser.ts";

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Serious and critical violations on the page as it is now. */
async function violations(page: Page): Promise<Violation[]> {
  const loaded = await page.evaluate(() => "axe" in globalThis);
  if (!loaded) await page.addScriptTag({ content: axe.source });
  const found = await page.evaluate(async () => {
    // deno-lint-ignore no-explicit-any
    const result = await (globalThis as any).axe.run(document, {
      resultTypes: ["violations"],
    });
    return result.violations as Violation[];
  });
  return found.filter((v) => v.impact === "serious" || v.impact === "critical");
}

function describe(found: Violation[]): string {
  return found.map((v) =>
    `${v.impact} ${v.id}: ${v.help} (${
      v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")
    })`
  ).join("\n");
}

/** Rows with their own settings; the first names the reference. */
const TABLE = [
  "prompt,model,aspect_ratio,count,name,references",
  "a lighthouse at dawn,gemini-nano-banana-2.1,16:9,2,lighthouse,harbour.jpg",
  `"a tram in the rain, ink drawing",gemini-3-pro-image,3:4,1,tram,`,
].join("\n");

/** Fills the form with the table, a JPEG reference and a two-model matrix. */
async function fillAuthoring(page: Page) {
  const jpeg = await page.evaluate(() => {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 16;
    const g = canvas.getContext("2d")!;
    g.fillStyle = "#3a7bd5";
    g.fillRect(0, 0, 16, 16);
    return canvas.toDataURL("image/jpeg").split(",")[1]!;
  });
  await page.setInputFiles("input[name=promptsFile]", {
    name: "prompts.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(TABLE),
  });
  await page.setInputFiles("input[name=references]", {
    name: "harbour.jpg",
    mimeType: "image/jpeg",
    buffer: Buffer.from(Uint8Array.fromBase64(jpeg)),
  });
  await page.click("details.more > summary");
  for (const model of ["gemini-nano-banana-2.1", "gemini-3-pro-image"]) {
    await page.check(`input[name=matrixModel][value="${model}"]`);
  }
  await page.waitForFunction(() =>
    document.querySelectorAll(".preview-table tbody tr").length === 4
  );
}

Deno.test({
  name:
    "[a11y] no serious or critical axe violation, and no sideways scrolling, on any page at 1280 and 390 px",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withBrowserApp(async ({ browser, url }) => {
      const context = await browser.newContext({ bypassCSP: true });
      const page = await context.newPage();
      const problems: string[] = [];
      const check = async (where: string) => {
        const found = await violations(page);
        if (found.length > 0) problems.push(`${where}:\n${describe(found)}`);
        // And no page scrolls sideways, at either width.
        const overflow = await page.evaluate(() =>
          document.documentElement.scrollWidth - globalThis.innerWidth
        );
        if (overflow > 0) {
          problems.push(`${where}: scrolls sideways by ${overflow} px`);
        }
      };
      try {
        await page.goto(url);
        await page.fill("#api-key", TEST_KEY);
        await page.fill(
          "textarea[name=prompts]",
          "a red fox\nan owl [block:IMAGE_SAFETY]\na lark [status:400]",
        );
        await page.click("#batch-form button[type=submit]");
        await page.waitForURL(/\/batches\/[a-z0-9]+$/);
        const id = page.url().split("/").pop()!;
        await page.waitForSelector(`#run-ended-${id}.run-finished`, {
          timeout: 20000,
        });
        // A matrix batch from a table with a reference: its compare grid.
        await page.goto(url);
        await page.fill("#api-key", TEST_KEY);
        await fillAuthoring(page);
        await page.click("#batch-form button[type=submit]");
        await page.waitForURL(/\/batches\/[a-z0-9]+$/);
        const matrixId = page.url().split("/").pop()!;
        await page.waitForSelector(`#run-ended-${matrixId}.run-finished`, {
          timeout: 20000,
        });
        // A batch in Batch mode, left waiting at Google (the fake's job
        // stays pending).
        await page.goto(url);
        await page.fill("#api-key", TEST_KEY);
        await page.fill("textarea[name=prompts]", "a heron\na kingfisher");
        await page.check("input[name=mode][value=batch]");
        await page.waitForSelector(".estimate-batch");
        await page.click("#batch-form button[type=submit]");
        await page.waitForURL(/\/batches\/[a-z0-9]+$/);
        const atGoogleId = page.url().split("/").pop()!;
        await page.waitForSelector(".sync-poller");
        for (const width of [1280, 390]) {
          await page.setViewportSize({
            width,
            height: width === 390 ? 844 : 800,
          });
          await page.goto(`${url}/`);
          await page.fill("#api-key", TEST_KEY);
          await check(`${width}px new batch`);
          await page.click(".keybar button");
          await page.waitForSelector("#key-status .key-ok");
          await check(`${width}px new batch after Validate`);
          await fillAuthoring(page);
          await check(`${width}px new batch previewing a table and a matrix`);
          await page.fill("input[name=matrixAspectRatio]", "7:3");
          await page.waitForSelector(".preview-problem");
          await check(`${width}px new batch with a problem in the preview`);
          await page.goto(`${url}/batches/${matrixId}`);
          await page.waitForSelector("table.compare .tile img");
          await check(`${width}px compare grid`);
          await page.goto(`${url}/`);
          await page.check("input[name=mode][value=batch]");
          await page.fill("textarea[name=prompts]", "a heron");
          await page.waitForSelector(".estimate-batch");
          await check(`${width}px new batch in Batch mode`);
          await page.goto(`${url}/batches/${atGoogleId}`);
          await page.waitForSelector(".sync-poller.sync-needs-key");
          await check(`${width}px batch at Google, no key`);
          await page.fill("#api-key", TEST_KEY);
          await page.waitForSelector(".sync-poller:not(.sync-needs-key)");
          await check(`${width}px batch at Google, with the key`);
          await page.goto(`${url}/batches/${id}`);
          await page.waitForSelector(".tile img");
          await check(`${width}px finished batch`);
          await page.click(".tile img");
          await page.waitForSelector("dialog[open]");
          await check(`${width}px viewer`);
          await page.keyboard.press("Escape");
          for (
            const path of ["/history", "/gallery", "/key", "/no/such/page"]
          ) {
            await page.goto(`${url}${path}`);
            await check(`${width}px ${path}`);
          }
        }
      } finally {
        await context.close();
      }
      assert.deepEqual(problems, [], problems.join("\n\n"));
    }, { fake: { batch: { getsPerState: 1000 } } }),
});
