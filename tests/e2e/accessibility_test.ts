/**
 * [a11y] axe-core in a real Chromium finds no serious or critical violation
 * on any page: the new-batch form (before and after Validate), a finished
 * batch with done, blocked and failed tiles, the image viewer open, History,
 * the gallery, "Your key" and a not-found page, at desktop and phone width.
 * axe is injected by the test (the app's CSP allows no inline script, so the
 * test's context bypasses CSP for the injection only).
 */
import assert from "node:assert/strict";
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
    }),
});
