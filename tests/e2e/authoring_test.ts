/**
 * [e2e] Issue #11's authoring flow in a real Chromium: upload a CSV whose
 * rows carry their own model, ratio, count, name and reference, plus the
 * JPEG it names; see the preview (rows and cost by model) before anything is
 * saved; add a matrix of two models; Generate with the key; watch the run end
 * in a compare grid labelled by model, with the reference shown; and check
 * that the fake Gemini received the JPEG's bytes with the right requests.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Page, Request } from "playwright-core";
import { TEST_KEY } from "../_helpers.ts";
import { countRows } from "../_html.ts";
import { sha256Hex } from "../fake_gemini.ts";
import { withBrowserApp } from "./_browser.ts";

const NANO = "gemini-nano-banana-2.1";
const PRO = "gemini-3-pro-image";

/** Two rows on two models; the fox names the reference, the owl none. */
const CSV = [
  "prompt,model,aspect_ratio,count,name,references",
  `a fox in the snow,${NANO},16:9,2,fox,bee.jpg`,
  `an owl at night,${PRO},1:1,1,owl,`,
].join("\n");

/** A real (decodable) 8×8 JPEG, drawn and encoded by the browser itself. */
async function tinyJpeg(page: Page): Promise<Uint8Array<ArrayBuffer>> {
  const dataUrl = await page.evaluate(() => {
    const canvas = document.createElement("canvas");
    canvas.width = 8;
    canvas.height = 8;
    const g = canvas.getContext("2d")!;
    g.fillStyle = "#e0a020";
    g.fillRect(0, 0, 8, 8);
    g.fillStyle = "#202020";
    g.fillRect(0, 3, 8, 2);
    return canvas.toDataURL("image/jpeg", 0.9);
  });
  const bytes = Uint8Array.fromBase64(dataUrl.split(",")[1]!);
  // What the server checks: the JPEG magic bytes.
  assert.deepEqual([...bytes.slice(0, 3)], [0xff, 0xd8, 0xff]);
  return bytes;
}

/** The preview table's body rows as arrays of cell texts. */
function previewRows(page: Page): Promise<string[][]> {
  return page.$$eval(
    ".preview-table tbody tr",
    (trs) =>
      trs.map((tr) =>
        [...tr.querySelectorAll("td")].map((td) =>
          (td.textContent ?? "").replace(/\s+/g, " ").trim()
        )
      ),
  );
}

Deno.test({
  name:
    "[e2e] a CSV with per-row settings and a JPEG reference previews, runs as a two-model matrix and shows the compare grid",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withBrowserApp(async ({ page, url, t, consoleErrors }) => {
      const estimates: Request[] = [];
      page.on("request", (request) => {
        if (new URL(request.url()).pathname === "/batches/estimate") {
          estimates.push(request);
        }
      });
      await page.goto(url);
      await page.fill("#api-key", TEST_KEY);
      const jpeg = await tinyJpeg(page);

      await page.setInputFiles("input[name=promptsFile]", {
        name: "rows.csv",
        mimeType: "text/csv",
        buffer: Buffer.from(CSV),
      });
      await page.setInputFiles("input[name=references]", {
        name: "bee.jpg",
        mimeType: "image/jpeg",
        buffer: Buffer.from(jpeg),
      });

      // The preview reads both files: the rows with their own settings, and
      // the reference the fox row names, with the cost of each model.
      await page.waitForFunction(() =>
        document.querySelector(".preview-table")?.textContent?.includes(
          "bee.jpg",
        )
      );
      assert.deepEqual(await previewRows(page), [
        [
          "1",
          "a fox in the snow → fox",
          "Nano Banana 2.1",
          "16:9 · 1K",
          "2",
          "bee.jpg",
        ],
        ["2", "an owl at night → owl", "Nano Banana Pro", "1:1 · 1K", "1", ""],
      ]);
      const byModel = await page.textContent(".preview-models") ?? "";
      assert.match(byModel, /Nano Banana 2\.1: 2 images, \$\d+\.\d\d/);
      assert.match(byModel, /Nano Banana Pro: 1 image, \$\d+\.\d\d/);
      assert.match(
        await page.textContent(".estimate-body") ?? "",
        /2 prompts, 3 images/,
      );

      // htmx 4 sent the estimate as multipart (the form's enctype): the
      // rows and the reference name above come only from the two files.
      // (Chromium does not hand Playwright a body that holds files.)
      const sent = estimates.at(-1)!;
      assert.equal(sent.method(), "POST");
      assert.match(
        await sent.headerValue("content-type") ?? "",
        /^multipart\/form-data; boundary=/,
      );

      // A matrix of both models: each row on each model (the matrix wins
      // over the rows' own model).
      await page.click("details.more > summary");
      await page.check(`input[name=matrixModel][value="${NANO}"]`);
      await page.check(`input[name=matrixModel][value="${PRO}"]`);
      await page.waitForFunction(() =>
        document.querySelectorAll(".preview-table tbody tr").length === 4
      );
      const matrixRows = await previewRows(page);
      assert.deepEqual(
        matrixRows.map((r) => [r[0], r[2], r[4], r[5]]),
        [
          ["1", "Nano Banana 2.1", "2", "bee.jpg"],
          ["1", "Nano Banana Pro", "2", "bee.jpg"],
          ["2", "Nano Banana 2.1", "1", ""],
          ["2", "Nano Banana Pro", "1", ""],
        ],
      );
      const matrixByModel = await page.textContent(".preview-models") ?? "";
      assert.match(matrixByModel, /Nano Banana 2\.1: 3 images/);
      assert.match(matrixByModel, /Nano Banana Pro: 3 images/);
      assert.match(
        await page.textContent(".estimate-body") ?? "",
        /4 prompts, 6 images/,
      );
      assert.match(await page.textContent(".preview") ?? "", /4 rows/);

      // All of that before anything was saved or sent to Google.
      assert.equal(await countRows(t, "batches"), 0);
      assert.equal(t.fake.stats().generate, 0);
      assert.equal(t.fake.files().uploaded, 0);

      await page.click("#batch-form button[type=submit]");
      await page.waitForURL(/\/batches\/[a-z0-9]+$/);
      const id = page.url().split("/").pop()!;
      await page.waitForSelector(`#run-ended-${id}.run-finished`, {
        timeout: 30000,
      });
      await page.waitForFunction(() =>
        document.querySelectorAll("table.compare .tile img").length === 6
      );

      // The compare grid: one column per model, one row per prompt.
      assert.match(
        await page.textContent("table.compare caption") ?? "",
        /Columns: Model/,
      );
      assert.deepEqual(
        await page.$$eval(
          "table.compare thead th",
          (ths) => ths.map((th) => th.textContent?.trim()),
        ),
        ["Prompt", "Nano Banana 2.1", "Nano Banana Pro"],
      );
      const gridRows = await page.$$eval(
        "table.compare tbody tr",
        (trs) =>
          trs.map((tr) => ({
            prompt: tr.querySelector("th")?.textContent ?? "",
            tiles: [...tr.querySelectorAll("td")].map((td) =>
              td.querySelectorAll(".tile img").length
            ),
          })),
      );
      assert.equal(gridRows.length, 2);
      assert.match(gridRows[0]!.prompt, /a fox in the snow/);
      assert.deepEqual(gridRows[0]!.tiles, [2, 2]);
      assert.match(gridRows[1]!.prompt, /an owl at night/);
      assert.deepEqual(gridRows[1]!.tiles, [1, 1]);
      assert.ok(await page.isVisible("a:text('Show as a list')"));
      assert.equal(
        await page.locator(".tile .tile-more button").count(),
        6,
        "every image offers More like this",
      );

      // The reference, shown with its name and loaded from the server.
      assert.match(
        await page.textContent(".references-list") ?? "",
        /bee\.jpg/,
      );
      const thumb = await page.$eval(
        ".references-list img",
        (img) => (img as HTMLImageElement).naturalWidth,
      );
      assert.equal(thumb, 8);

      // Google got the JPEG's bytes with each fox request (uploaded once
      // through the Files API, deleted after the run), none with the owl's.
      const sha = await sha256Hex(jpeg);
      const generated = t.fake.requests.filter((r) =>
        r.path.endsWith(":generateContent") && r.status === 200
      );
      assert.equal(generated.length, 6);
      const withImages = generated.filter((r) =>
        (r.inputImages ?? []).length > 0
      );
      assert.equal(withImages.length, 4);
      for (const r of withImages) {
        assert.deepEqual(
          r.inputImages!.map((i) => [i.kind, i.sha256, i.mimeType]),
          [["file", sha, "image/jpeg"]],
        );
        assert.match(JSON.stringify(r.body), /a fox in the snow/);
      }
      const models = new Set(
        withImages.map((r) => r.path.match(/models\/([^:]+):/)?.[1]),
      );
      assert.deepEqual([...models].sort(), [NANO, PRO].sort());
      assert.deepEqual(t.fake.files(), { uploaded: 1, deleted: 1, live: [] });

      // The same page from the server (a reload) keeps grid and reference.
      await page.reload();
      await page.waitForSelector("table.compare .tile img");
      assert.equal(await page.locator("table.compare .tile img").count(), 6);
      assert.match(
        await page.textContent(".references-list") ?? "",
        /bee\.jpg/,
      );

      assert.deepEqual(consoleErrors.filter((e) => !e.includes("favicon")), []);
    }),
});
