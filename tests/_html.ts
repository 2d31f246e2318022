/** Helpers of the page, API and workspace tests: HTML parsing, cookies, counts. */
import assert from "node:assert/strict";
import type { Client, InValue, Row } from "@libsql/client";
import { parseHTML } from "linkedom";
import { TEST_KEY, type TestApp } from "./_helpers.ts";

/** htmx navigation that swaps `main` (boosted links and forms). */
export const HTMX = { "HX-Request": "true", "HX-Target": "main#main" };

/** Parses a whole page or a fragment into a document. */
export function parse(html: string): Document {
  const source = /<html[\s>]/i.test(html)
    ? html
    : `<!DOCTYPE html><html><head></head><body>${html}</body></html>`;
  return parseHTML(source).document as unknown as Document;
}

/** Asserts status, then an HTML content type, then returns the parsed body. */
export async function expectHtml(
  response: Response,
  status: number,
): Promise<{ doc: Document; html: string }> {
  const html = await response.text();
  assert.equal(response.status, status, html.slice(0, 600));
  assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
  return { doc: parse(html), html };
}

/** Asserts status, then a JSON content type, then returns the body. */
export async function expectJson(
  response: Response,
  status: number,
  // deno-lint-ignore no-explicit-any
): Promise<any> {
  const text = await response.text();
  assert.equal(response.status, status, text.slice(0, 600));
  assert.match(
    response.headers.get("content-type") ?? "",
    /^application\/json/,
  );
  return JSON.parse(text);
}

/** `name=value` of the workspace cookie a response sets, or undefined. */
export function workspaceCookie(response: Response): string | undefined {
  const header = response.headers.get("set-cookie") ?? "";
  return header.match(/(?:^|,\s*)(batchgen_workspace=[^;]+)/)?.[1];
}

/** Starts a fresh workspace and returns its cookie (`name=value`). */
export async function newWorkspace(t: TestApp): Promise<string> {
  const response = await t.request("/key");
  await response.body?.cancel();
  const cookie = workspaceCookie(response);
  assert.ok(cookie, "the first response sets the workspace cookie");
  return cookie;
}

/** Runs SQL on the test app's database (`db.$client`). */
export async function query(
  t: TestApp,
  sql: string,
  args: InValue[] = [],
): Promise<Row[]> {
  const client = (t.deps.db as unknown as { $client: Client }).$client;
  return (await client.execute({ sql, args })).rows;
}

/** Rows in `table` (optionally only those matching `where`). */
export async function countRows(
  t: TestApp,
  table: "batches" | "items" | "images",
  where = "1 = 1",
  args: string[] = [],
): Promise<number> {
  const rows = await query(
    t,
    `select count(*) as n from ${table} where ${where}`,
    args,
  );
  return Number(rows[0]?.n);
}

/** Visible text with whitespace collapsed. */
export function text(node: Element | Document | null | undefined): string {
  const content = node && "documentElement" in node
    ? node.documentElement?.textContent
    : node?.textContent;
  return (content ?? "").replace(/\s+/g, " ").trim();
}

/**
 * What a browser shows in a textarea. linkedom keeps the RCDATA content
 * undecoded, so character references are decoded here as a browser would.
 */
export function textareaValue(doc: Document, name: string): string | undefined {
  const raw = doc.querySelector(`textarea[name=${name}]`)?.textContent;
  return raw?.replace(
    /&(?:#(\d+)|#x([0-9a-f]+)|(amp|lt|gt|quot|apos));/gi,
    (_, dec, hex, named: string | undefined) =>
      dec || hex
        ? String.fromCodePoint(parseInt(dec ?? hex, dec ? 10 : 16))
        : { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }[
          named!.toLowerCase() as "amp"
        ],
  );
}

/** Values of a select's options, in order. */
export function optionValues(doc: Document, selectName: string): string[] {
  return [...doc.querySelectorAll(`select[name=${selectName}] option`)].map((
    o,
  ) => o.getAttribute("value") ?? "");
}

/** The value of the selected option of a select. */
export function selectedValue(
  doc: Document,
  selectName: string,
): string | null {
  return doc.querySelector(`select[name=${selectName}] option[selected]`)
    ?.getAttribute("value") ?? null;
}

/**
 * Posts the new-batch form (urlencoded unless `body` is FormData). From htmx
 * the page's form also sends the header's key field (Generate checks it
 * before saving), so an htmx post carries `TEST_KEY` unless `body` says.
 */
export async function postBatchForm(
  t: TestApp,
  cookie: string,
  body: Record<string, string> | FormData,
  headers: Record<string, string> = {},
): Promise<Response> {
  if (headers["HX-Request"] === "true") {
    if (body instanceof FormData) {
      if (!body.has("apiKey")) body.set("apiKey", TEST_KEY);
    } else body = { apiKey: TEST_KEY, ...body };
  }
  return await t.request("/batches", {
    method: "POST",
    headers: { cookie, ...headers },
    body: body instanceof FormData ? body : new URLSearchParams(body),
  });
}

/** The batch id of a plain form post's 303 redirect. */
export function redirectedBatchId(response: Response): string {
  assert.equal(response.status, 303);
  const location = response.headers.get("location") ?? "";
  const id = location.match(/^\/batches\/([0-9a-z]+)$/)?.[1];
  assert.ok(id, `redirect to a batch page, got ${location}`);
  return id;
}

/** The prompts of a batch's items, in (position, image) order. */
export async function itemPrompts(
  t: TestApp,
  batchId: string,
): Promise<Array<[number, number, string]>> {
  const rows = await query(
    t,
    "select i.position, i.image_index, p.text as prompt from items i join prompts p on p.batch_id = i.batch_id and p.position = i.position where i.batch_id = ? order by i.position, i.image_index",
    [batchId],
  );
  return rows.map((r) => [
    Number(r.position),
    Number(r.image_index),
    String(r.prompt),
  ]);
}

/** A small pause so consecutive batches get distinct creation times. */
export function tick(ms = 3): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
