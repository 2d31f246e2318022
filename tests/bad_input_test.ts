/**
 * [bad-input] One table of bad requests across the page and API routes: each
 * row says the request, the 4xx it must get and a phrase its message must
 * contain. After every row nothing is half-stored (batches and items counts
 * unchanged unless the row creates one), the key is never echoed, and no
 * request anywhere gets a 500.
 */
import assert from "node:assert/strict";
import { LIMITS } from "../core/limits.ts";
import {
  createBatchViaApi,
  startTestApp,
  TEST_KEY,
  type TestApp,
} from "./_helpers.ts";
import { findKeyMaterial } from "./_key_leaks.ts";
import { countRows, newWorkspace, parse, text } from "./_html.ts";

const MODEL = "gemini-nano-banana-2.1";
const PRO = "gemini-3-pro-image";
const JSON_TYPE = { "content-type": "application/json" };
const enc = new TextEncoder();

/** What the rows may refer to: two workspaces, each with one batch. */
interface Ctx {
  cookie: string;
  own: string;
  other: string;
}

interface Row {
  name: string;
  method?: string;
  path: string | ((x: Ctx) => string);
  headers?: Record<string, string>;
  body?: (x: Ctx) => BodyInit;
  /** Send without the workspace cookie (a stranger). */
  noCookie?: boolean;
  status: number;
  /** Must appear in the message (JSON error message, or the page's text). */
  phrase: RegExp;
  /** Batches the row is expected to create (default 0). */
  creates?: number;
  /** Extra checks on the response text. */
  check?: (body: string, t: TestApp, x: Ctx) => Promise<void> | void;
}

const form = (fields: Record<string, string>) => () =>
  new URLSearchParams(fields);
const json = (value: unknown) => () => JSON.stringify(value);
const batchJson = (extra: Record<string, unknown>) =>
  json({ prompts: ["a kestrel"], model: MODEL, ...extra });
const formFields = (extra: Record<string, string>) =>
  form({ prompts: "a kestrel", model: MODEL, ...extra });
const upload = (name: string, bytes: Uint8Array | string) => () => {
  const data = new FormData();
  data.set("prompts", "");
  data.set("model", MODEL);
  data.set("promptsFile", new File([bytes as BlobPart], name));
  return data;
};
/** A body of `size` bytes sent as a stream: no Content-Length. */
const streamed = (size: number, prefix = "") => () =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(enc.encode(prefix));
      for (let sent = 0; sent < size; sent += 100_000) {
        controller.enqueue(enc.encode("x".repeat(100_000)));
      }
      controller.close();
    },
  });
const OVER = LIMITS.formBodyBytes + 100_000;
const MISSING = "0123456789abcdefghij0123456789ab";

const ROWS: Row[] = [
  // ── The new-batch form (page) ──
  {
    name: "form: empty prompts",
    method: "POST",
    path: "/batches",
    body: formFields({ prompts: "" }),
    status: 422,
    phrase: /Write at least one prompt/,
  },
  {
    name: "form: whitespace-only prompts",
    method: "POST",
    path: "/batches",
    body: formFields({ prompts: " \n\t\r\n   " }),
    status: 422,
    phrase: /Write at least one prompt/,
  },
  {
    name: "form: too many prompts",
    method: "POST",
    path: "/batches",
    body: formFields({
      prompts: Array.from({ length: 1001 }, (_, i) => `p${i}`).join("\n"),
    }),
    status: 422,
    phrase: /At most 1000 prompts per batch/,
  },
  {
    name: "form: huge prompt",
    method: "POST",
    path: "/batches",
    body: formFields({ prompts: "y".repeat(LIMITS.promptChars + 1) }),
    status: 422,
    phrase: /at most 4000 characters/,
  },
  {
    name: "form: unknown model",
    method: "POST",
    path: "/batches",
    body: formFields({ model: "imagen-9" }),
    status: 422,
    phrase: /Unknown model/,
  },
  {
    name: "form: unsupported aspect ratio",
    method: "POST",
    path: "/batches",
    body: formFields({ aspectRatio: "7:3" }),
    status: 422,
    phrase: /supports the aspect ratios/,
  },
  {
    name: "form: unsupported image size",
    method: "POST",
    path: "/batches",
    body: formFields({ model: PRO, imageSize: "8K" }),
    status: 422,
    phrase: /supports the image sizes/,
  },
  {
    name: "form: 0 images per prompt",
    method: "POST",
    path: "/batches",
    body: formFields({ imagesPerPrompt: "0" }),
    status: 422,
    phrase: /At least 1 image per prompt/,
  },
  {
    name: "form: 11 images per prompt",
    method: "POST",
    path: "/batches",
    body: formFields({ imagesPerPrompt: "11" }),
    status: 422,
    phrase: /At most 10 images per prompt/,
  },
  {
    name: "form: images per prompt not a number",
    method: "POST",
    path: "/batches",
    body: formFields({ imagesPerPrompt: "two" }),
    status: 422,
    phrase: /whole number/,
  },
  {
    name: "form: negative budget",
    method: "POST",
    path: "/batches",
    body: formFields({ budgetUsd: "-1" }),
    status: 422,
    phrase: /budget cap cannot be negative/,
  },
  {
    name: "form: title too long",
    method: "POST",
    path: "/batches",
    body: formFields({ title: "t".repeat(LIMITS.titleChars + 1) }),
    status: 422,
    phrase: /Title: at most 200 characters/,
  },
  {
    name: "form: uploaded file too large",
    method: "POST",
    path: "/batches",
    body: upload("big.txt", "z".repeat(LIMITS.uploadBytes + 1)),
    status: 422,
    phrase: /The file is too large/,
  },
  {
    name: "form: uploaded file not UTF-8",
    method: "POST",
    path: "/batches",
    body: upload("latin1.txt", new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0xff])),
    status: 422,
    phrase: /not valid UTF-8/,
  },
  {
    name: "form: bad JSONL line",
    method: "POST",
    path: "/batches",
    body: upload("prompts.jsonl", '{"prompt": "ok"}\n{"prompt": oops}\n'),
    status: 422,
    phrase: /Line 2 of the JSONL file is not valid JSON/,
  },
  {
    name: "form: body over 2 MB with Content-Length",
    method: "POST",
    path: "/batches",
    body: formFields({ prompts: "w".repeat(OVER) }),
    status: 413,
    phrase: /too large \(at most 2000000 bytes\)/,
  },
  {
    name: "form: body over 2 MB streamed, no Content-Length",
    method: "POST",
    path: "/batches",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: streamed(OVER, `model=${MODEL}&prompts=`),
    status: 413,
    phrase: /too large/,
  },
  {
    name: "form: multipart without a boundary",
    method: "POST",
    path: "/batches",
    headers: { "content-type": "multipart/form-data" },
    body: () => "--x\r\nContent-Disposition: form-data; name=prompts\r\n\r\na",
    status: 400,
    phrase: /form data could not be read/,
  },
  {
    name:
      "form: HTML and script in a prompt are stored as text and shown escaped",
    method: "POST",
    path: "/batches",
    body: formFields({
      prompts: '<script>alert("x")</script><img src=x onerror=alert(1)>',
      title: "<b>bold</b>",
    }),
    status: 303,
    phrase: /^$/,
    creates: 1,
    async check(_body, t, x) {
      const history = await t.request("/history", {
        headers: { cookie: x.cookie },
      });
      const html = await history.text();
      assert.doesNotMatch(html, /<script>alert|<b>bold<\/b>|<img src=x/);
      assert.match(html, /&lt;b&gt;bold&lt;\/b&gt;/);
    },
  },
  // ── The JSON API: new batches ──
  {
    name: "api: malformed JSON",
    method: "POST",
    path: "/api/batches",
    headers: JSON_TYPE,
    body: () => '{"prompts": ["a", }',
    status: 400,
    phrase: /not valid JSON/,
  },
  {
    name: "api: invalid UTF-8 body (bytes 0xff 0xfe)",
    method: "POST",
    path: "/api/batches",
    headers: JSON_TYPE,
    body: () => new Uint8Array([0xff, 0xfe]),
    status: 400,
    phrase: /not valid UTF-8/,
  },
  {
    name: "api: invalid UTF-8 inside a JSON string",
    method: "POST",
    path: "/api/batches",
    headers: JSON_TYPE,
    body: () =>
      new Uint8Array([
        ...enc.encode('{"prompts": ["caf'),
        0xe9,
        0xff,
        ...enc.encode(`"], "model": "${MODEL}"}`),
      ]),
    status: 400,
    phrase: /not valid UTF-8/,
  },
  {
    name: "api: wrong content type",
    method: "POST",
    path: "/api/batches",
    headers: { "content-type": "text/plain" },
    body: batchJson({}),
    status: 415,
    phrase: /Content-Type: application\/json/,
  },
  {
    name: "api: a JSON array instead of an object",
    method: "POST",
    path: "/api/batches",
    headers: JSON_TYPE,
    body: json([{ prompts: ["a"] }]),
    status: 400,
    phrase: /must be a JSON object/,
  },
  {
    name: "api: body over 2 MB with Content-Length",
    method: "POST",
    path: "/api/batches",
    headers: JSON_TYPE,
    body: batchJson({ title: "v".repeat(OVER) }),
    status: 413,
    phrase: /too large \(at most 2000000 bytes\)/,
  },
  {
    name: "api: body over 2 MB streamed, no Content-Length",
    method: "POST",
    path: "/api/batches",
    headers: JSON_TYPE,
    body: streamed(OVER, '{"title": "'),
    status: 413,
    phrase: /too large \(at most 2000000 bytes\)/,
  },
  {
    name: "api: prompts not a list",
    method: "POST",
    path: "/api/batches",
    headers: JSON_TYPE,
    body: batchJson({ prompts: "a kestrel" }),
    status: 422,
    phrase: /Prompts must be a list of texts/,
  },
  {
    name: "api: no prompts",
    method: "POST",
    path: "/api/batches",
    headers: JSON_TYPE,
    body: batchJson({ prompts: [] }),
    status: 422,
    phrase: /Write at least one prompt/,
  },
  {
    name: "api: a blank prompt",
    method: "POST",
    path: "/api/batches",
    headers: JSON_TYPE,
    body: batchJson({ prompts: ["ok", "   "] }),
    status: 422,
    phrase: /Prompts cannot be empty/,
  },
  // Authoring (issue #11): each refusal names the row and the column.
  {
    name: "page: a CSV with broken quoting",
    method: "POST",
    path: "/batches",
    body: upload("rows.csv", 'prompt,model\n"a fox,gemini-3-pro-image\n'),
    status: 422,
    phrase: /Cannot read the CSV file: .*Quote Not Closed/,
  },
  {
    name: "page: a CSV with a column BatchGen does not read",
    method: "POST",
    path: "/batches",
    body: upload("rows.csv", "prompt,style\na fox,noir\n"),
    status: 422,
    phrase: /Unknown column "style"/,
  },
  {
    name: "api: an unknown model in row 2",
    method: "POST",
    path: "/api/batches",
    headers: JSON_TYPE,
    body: batchJson({
      prompts: undefined,
      rows: [{ prompt: "a fox" }, { prompt: "a wren", model: "imagen-9" }],
    }),
    status: 422,
    phrase: /row 2: unknown model "imagen-9"/,
  },
  {
    name: "api: a ratio the row's model does not offer",
    method: "POST",
    path: "/api/batches",
    headers: JSON_TYPE,
    body: batchJson({
      prompts: undefined,
      rows: Array.from({ length: 14 }, (_, i) => ({
        prompt: `fox ${i}`,
        ...(i === 13 ? { model: PRO, aspectRatio: "7:3" } : {}),
      })),
    }),
    status: 422,
    phrase: /row 14: aspect ratio 7:3 is not offered by Nano Banana Pro/,
  },
  {
    name: "api: a template expanding to 10,000 rows",
    method: "POST",
    path: "/api/batches",
    headers: JSON_TYPE,
    body: batchJson({
      prompts: [
        "{1|2|3|4|5|6|7|8|9|10} {1|2|3|4|5|6|7|8|9|10} {1|2|3|4|5|6|7|8|9|10} {1|2|3|4|5|6|7|8|9|10}",
      ],
      expandTemplates: true,
    }),
    status: 422,
    phrase: /10000 prompts; at most|more than 5000 rows/,
  },
  {
    name: "api: a template with an unclosed {",
    method: "POST",
    path: "/api/batches",
    headers: JSON_TYPE,
    body: batchJson({ prompts: ["a {red|blue fox"], expandTemplates: true }),
    status: 422,
    phrase: /row 1: The template has an unclosed "\{"/,
  },
  {
    name: "api: a reference id that is not this workspace's",
    method: "POST",
    path: "/api/batches",
    headers: JSON_TYPE,
    body: batchJson({ references: ["nope123"] }),
    status: 422,
    phrase: /no reference image "nope123"/,
  },
  {
    name: "api: an .exe renamed .png as a reference",
    method: "POST",
    path: "/api/references",
    body: () => {
      const data = new FormData();
      data.set(
        "file",
        new File([enc.encode("MZ\x90\x00 this is a program")], "photo.png"),
      );
      return data;
    },
    status: 422,
    phrase: /photo\.png is not a PNG, JPEG or WebP image/,
  },
  {
    name: "api: a 30 MB reference image",
    method: "POST",
    path: "/api/references",
    body: () => {
      const data = new FormData();
      const bytes = new Uint8Array(30_000_000);
      bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      data.set("file", new File([bytes], "huge.png"));
      return data;
    },
    status: 422,
    phrase: /huge\.png is 30\.0 MB; a reference image can be at most 10 MB/,
  },
  {
    name: "api: unknown model",
    method: "POST",
    path: "/api/batches",
    headers: JSON_TYPE,
    body: batchJson({ model: "imagen-9" }),
    status: 422,
    phrase: /Unknown model/,
  },
  {
    name: "api: unsupported ratio",
    method: "POST",
    path: "/api/batches",
    headers: JSON_TYPE,
    body: batchJson({ aspectRatio: "1:7" }),
    status: 422,
    phrase: /supports the aspect ratios/,
  },
  {
    name: "api: 0 images per prompt",
    method: "POST",
    path: "/api/batches",
    headers: JSON_TYPE,
    body: batchJson({ imagesPerPrompt: 0 }),
    status: 422,
    phrase: /At least 1 image per prompt/,
  },
  {
    name: "api: over 5000 images in a batch",
    method: "POST",
    path: "/api/batches",
    headers: JSON_TYPE,
    body: batchJson({
      prompts: Array.from({ length: 1000 }, (_, i) => `p${i}`),
      imagesPerPrompt: 6,
    }),
    status: 422,
    phrase: /At most 5000 images per batch/,
  },
  {
    name: "api: 17 parallel requests",
    method: "POST",
    path: "/api/batches",
    headers: JSON_TYPE,
    body: batchJson({ concurrency: 17 }),
    status: 422,
    phrase: /Parallel requests: 1 to 16/,
  },
  {
    name: "api: negative budget",
    method: "POST",
    path: "/api/batches",
    headers: JSON_TYPE,
    body: batchJson({ budgetUsd: -5 }),
    status: 422,
    phrase: /budget cap cannot be negative/,
  },
  {
    name: "api: title too long",
    method: "POST",
    path: "/api/batches",
    headers: JSON_TYPE,
    body: batchJson({ title: "t".repeat(LIMITS.titleChars + 1) }),
    status: 422,
    phrase: /Title: at most 200 characters/,
  },
  // ── Keys ──
  {
    name: "api key check: no key",
    method: "POST",
    path: "/api/keys/validate",
    status: 400,
    phrase: /Paste your Gemini API key first.*x-goog-api-key/,
  },
  {
    name: "api key check: blank key",
    method: "POST",
    path: "/api/keys/validate",
    headers: { "x-goog-api-key": "   " },
    status: 400,
    phrase: /Paste your Gemini API key first/,
  },
  {
    name: "api key check: control characters",
    method: "POST",
    path: "/api/keys/validate",
    headers: {
      "x-goog-api-key": `${TEST_KEY.slice(0, 20)}\x01${TEST_KEY.slice(20)}`,
    },
    status: 400,
    phrase: /control characters/,
  },
  {
    name: "api key check: key too long",
    method: "POST",
    path: "/api/keys/validate",
    headers: { "x-goog-api-key": TEST_KEY.repeat(4) },
    status: 400,
    phrase: /does not look like a Gemini API key/,
  },
  {
    name: "page key check: blank key",
    method: "POST",
    path: "/keys/validate",
    body: form({ apiKey: " \t " }),
    status: 400,
    phrase: /Paste your Gemini API key first/,
  },
  {
    name: "page key check: key with a newline",
    method: "POST",
    path: "/keys/validate",
    body: form({ apiKey: `${TEST_KEY.slice(0, 25)}\n${TEST_KEY.slice(25)}` }),
    status: 400,
    phrase: /line breaks/,
  },
  {
    name: "page key check: key with control characters",
    method: "POST",
    path: "/keys/validate",
    body: form({ apiKey: `${TEST_KEY}\x07\x1b` }),
    status: 400,
    phrase: /control characters/,
  },
  {
    name: "page key check: markup instead of a key",
    method: "POST",
    path: "/keys/validate",
    body: form({ apiKey: "<script>alert(1)</script>xxxxxxxxxxxx" }),
    status: 400,
    phrase: /does not look like a Gemini API key/,
    check: (body) => assert.doesNotMatch(body, /<script>|alert\(1\)/),
  },
  {
    name: "page run: no key",
    method: "POST",
    path: (x) => `/batches/${x.own}/run`,
    body: form({}),
    status: 400,
    phrase: /Paste your Gemini API key first\. Then press Start again/,
  },
  {
    name: "page run: negative budget cap",
    method: "POST",
    path: (x) => `/batches/${x.own}/run`,
    body: form({ apiKey: TEST_KEY, budgetUsd: "-3" }),
    status: 400,
    phrase: /budget cap cannot be negative/,
  },
  {
    name: "api run: blank key",
    method: "POST",
    path: (x) => `/api/batches/${x.own}/run`,
    headers: { "x-goog-api-key": "" },
    status: 400,
    phrase: /Paste your Gemini API key first/,
  },
  // ── Ids, paths, routes and methods ──
  {
    name: "page: path traversal as a batch id",
    path: "/batches/..%2F..%2F..%2Fetc%2Fpasswd",
    status: 404,
    phrase: /There is no such batch in this workspace/,
  },
  {
    name: "api: path traversal as a batch id",
    path: "/api/batches/..%2F..%2Fbatchgen.db",
    status: 404,
    phrase: /There is no such batch in this workspace/,
  },
  {
    name: "images: path traversal in the file name",
    path: (x) => `/images/${x.own}/..%2F..%2Fbatchgen.db`,
    status: 404,
    phrase: /Not found/,
  },
  {
    name: "images: path traversal in the batch id",
    path: "/images/..%2F..%2F/batchgen.db",
    status: 404,
    phrase: /Not found/,
  },
  {
    name: "api: another workspace's batch",
    path: (x) => `/api/batches/${x.other}`,
    status: 404,
    phrase: /There is no such batch in this workspace/,
  },
  {
    name: "api: running another workspace's batch",
    method: "POST",
    path: (x) => `/api/batches/${x.other}/run`,
    headers: { "x-goog-api-key": TEST_KEY },
    status: 404,
    phrase: /There is no such batch in this workspace/,
  },
  {
    name: "api: running a batch that does not exist",
    method: "POST",
    path: `/api/batches/${MISSING}/run`,
    headers: { "x-goog-api-key": TEST_KEY },
    status: 404,
    phrase: /There is no such batch in this workspace/,
  },
  {
    name: "api: deleting another workspace's batch",
    method: "DELETE",
    path: (x) => `/api/batches/${x.other}`,
    status: 404,
    phrase: /There is no such batch in this workspace/,
  },
  {
    name: "page: deleting another workspace's batch",
    method: "DELETE",
    path: (x) => `/batches/${x.other}`,
    status: 404,
    phrase: /There is no such batch in this workspace/,
  },
  {
    name: "page: another workspace's ZIP",
    path: (x) => `/batches/${x.other}/download.zip`,
    status: 404,
    phrase: /There is no such batch in this workspace/,
  },
  {
    name: "a stranger (no cookie) asks for a batch",
    path: (x) => `/api/batches/${x.own}/manifest.json`,
    noCookie: true,
    status: 404,
    phrase: /There is no such batch in this workspace/,
  },
  {
    name: "api: unknown route",
    path: "/api/nothing/here",
    status: 404,
    phrase: /No such API route/,
  },
  {
    name: "page: unknown route",
    path: "/nothing/here",
    status: 404,
    phrase: /There is no such page/,
  },
  {
    name: "api: PUT /api/batches",
    method: "PUT",
    path: "/api/batches",
    headers: JSON_TYPE,
    body: batchJson({}),
    status: 404,
    phrase: /No such API route/,
  },
  {
    name: "page: PATCH a batch",
    method: "PATCH",
    path: (x) => `/batches/${x.own}`,
    body: form({ title: "x" }),
    status: 404,
    phrase: /There is no such page/,
  },
  {
    name: "api: a non-numeric cursor",
    path: "/api/batches?cursor=abc",
    status: 400,
    phrase: /cursor is not valid/,
  },
  {
    name: "page: a non-numeric history cursor",
    path: "/history?cursor=1700000000000_x%27%20or%201%3D1",
    status: 400,
    phrase: /cursor is not valid/,
  },
  {
    name: "page: a huge search is clipped, not an error",
    path: `/history?q=${"q".repeat(50_000)}`,
    status: 200,
    phrase: /History/,
  },
  {
    name: "api: a huge search is clipped, not an error",
    path: `/api/batches?q=${"q".repeat(50_000)}&limit=-7`,
    status: 200,
    phrase: /^$/,
  },
  {
    name: "static: a name that is an Object prototype property",
    path: "/static/constructor",
    status: 404,
    phrase: /Not found/,
  },
  {
    name: "static: __proto__",
    path: "/static/__proto__",
    status: 404,
    phrase: /Not found/,
  },
  {
    name: "form: a key wrapped over two lines of the prompt box",
    method: "POST",
    path: "/batches",
    body: formFields({
      prompts: "a kestrel\nAIzaSyCanaryKey0123456\n789abcdefghijklmn\na wren",
    }),
    status: 422,
    phrase: /looks like an API key/,
  },
  {
    name: "form: the key pasted as a prompt is refused and not shown again",
    method: "POST",
    path: "/batches",
    body: formFields({ prompts: `a kestrel\n${TEST_KEY}\na wren` }),
    status: 422,
    phrase: /looks like an API key/,
    check: (body) => {
      assert.match(body, /a kestrel\s+a wren/, "the other prompts are kept");
    },
  },
  {
    name: "api: a new-format key split across two prompts",
    method: "POST",
    path: "/api/batches",
    headers: JSON_TYPE,
    body: batchJson({ prompts: ["AQ.Ab8RN6Lk", "TestKeyCanary0123456789"] }),
    status: 422,
    phrase: /looks like an API key/,
  },
  {
    name: "a cross-site form post",
    method: "POST",
    path: "/batches",
    headers: { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
    body: formFields({}),
    status: 403,
    phrase: /came from another site/,
  },
];

/** The message a response shows: a JSON error's message, else its text. */
function messageOf(response: Response, body: string): string {
  const type = response.headers.get("content-type") ?? "";
  if (type.startsWith("application/json")) {
    const value = JSON.parse(body);
    return value.error
      ? `${value.error.message} ${
        Object.values(value.error.fields ?? {}).join(" ")
      }`
      : "";
  }
  if (type.startsWith("text/html")) return text(parse(body));
  return body;
}

Deno.test("[bad-input] a table of bad requests: each gets its 4xx and a clear message, nothing half-stored, never a 500", async (ctx) => {
  assert.ok(ROWS.length >= 30, `${ROWS.length} rows`);
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const own = (await createBatchViaApi(t, { prompts: ["own"], model: MODEL }, {
    cookie,
  })).id;
  const otherCookie = await newWorkspace(t);
  const other = (await createBatchViaApi(t, {
    prompts: ["theirs"],
    model: MODEL,
  }, { cookie: otherCookie })).id;
  const x: Ctx = { cookie, own, other };

  for (const row of ROWS) {
    await ctx.step(row.name, async () => {
      const before = {
        batches: await countRows(t, "batches"),
        items: await countRows(t, "items"),
      };
      const googleCalls = t.fake.requests.length;
      const headers = new Headers(row.headers);
      if (!row.noCookie) headers.set("cookie", cookie);
      const path = typeof row.path === "function" ? row.path(x) : row.path;
      const response = await t.request(path, {
        method: row.method ?? "GET",
        headers,
        body: row.body?.(x),
        redirect: "manual",
      });
      const body = await response.text();
      assert.equal(response.status, row.status, body.slice(0, 400));
      const message = messageOf(response, body);
      assert.match(message, row.phrase, message.slice(0, 400));
      assert.equal(findKeyMaterial(body, TEST_KEY), undefined, "key echoed");
      assert.equal(
        findKeyMaterial(JSON.stringify([...response.headers]), TEST_KEY),
        undefined,
        "key in a header",
      );
      const created = row.creates ?? 0;
      assert.equal(await countRows(t, "batches"), before.batches + created);
      if (!created) {
        assert.equal(await countRows(t, "items"), before.items, "items stored");
      }
      if (row.status >= 400) {
        assert.equal(t.fake.requests.length, googleCalls, "Google was called");
      }
      await row.check?.(body, t, x);
    });
  }
  // Both batches are intact, each still in its own workspace only.
  for (const [id, jar] of [[own, cookie], [other, otherCookie]] as const) {
    const response = await t.request(`/api/batches/${id}`, {
      headers: { cookie: jar },
    });
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  assert.equal(t.deps.activeRuns.size, 0);
  const failures = t.logs.filter((line) => line.includes('"request failed"'));
  assert.deepEqual(failures, [], "a request ended in a 500");
});
