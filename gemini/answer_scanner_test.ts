/**
 * The streaming answer reader (issue 13 §2): the scanner against JSON.parse
 * at every chunk boundary, the base64 decoder across pieces, and
 * `streamAnswer`'s outcome and temp files.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  AnswerTooLargeError,
  type Base64Sink,
  createAnswerScanner,
} from "./answer_scanner.ts";
import { createBase64Decoder } from "./base64_file.ts";
import { streamAnswer } from "./generate.ts";

const KEY = "AQ.Ab8RN6Lq-scanner-test-key-7f3c9e2d41";
const PNG_HEAD = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function png(fill: number, length = 300): Uint8Array {
  const bytes = new Uint8Array(length).fill(fill);
  bytes.set(PNG_HEAD);
  return bytes;
}

/** Scans `text` fed in pieces of `size` bytes; images decoded in memory. */
function scan(text: string, size: number) {
  const body = new TextEncoder().encode(text);
  const images: { id: string; text: string; ended: boolean }[] = [];
  const scanner = createAnswerScanner((): Base64Sink => {
    const image = { id: `#img${images.length}`, text: "", ended: false };
    images.push(image);
    return {
      id: image.id,
      push: (t) => (image.text += t),
      end: () => (image.ended = true),
    };
  });
  for (let i = 0; i < body.length; i += size) {
    scanner.feed(body.subarray(i, i + size));
  }
  return { tree: scanner.finish(), images };
}

function response(text: string, size = 7): Response {
  const body = new TextEncoder().encode(text);
  let at = 0;
  return new Response(
    new ReadableStream<Uint8Array>({
      pull(controller) {
        if (at >= body.length) return controller.close();
        controller.enqueue(body.slice(at, at + size));
        at += size;
      },
    }),
  );
}

const answer = (parts: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    candidates: [{ content: { role: "model", parts }, finishReason: "STOP" }],
    usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1290 },
    ...extra,
  });

Deno.test("scanner: the same tree as JSON.parse at every chunk size, images apart", () => {
  // Escapes and multi-byte text, and base64 with "\/" and "\n" in it.
  const data = png(0xfb).toBase64();
  const escaped = data.replaceAll("/", "\\/").replace(/(.{60})/g, "$1\\n");
  const text = `{"candidates":[{"content":{"parts":[` +
    `{"text":"caf\\u00e9 \\"ok\\" ✓ ü","thought":true},` +
    `{"inlineData":{"mimeType":"image/png","data":"${escaped}"}}]},` +
    `"finishReason":"STOP","index":0,"safety":[true,false,null,-1.5e3]}],` +
    `"usageMetadata":{"promptTokenCount":12}}`;
  const expected = JSON.parse(text);
  expected.candidates[0].content.parts[1].inlineData.data = "#img0";
  for (const size of [1, 2, 3, 5, 7, 64, 100_000]) {
    const { tree, images } = scan(text, size);
    assert.deepEqual(tree, expected, `chunk size ${size}`);
    assert.equal(images.length, 1);
    assert.ok(images[0]!.ended);
    assert.equal(images[0]!.text.replaceAll("\n", ""), data);
  }
});

Deno.test("scanner: a truncated or broken body throws SyntaxError", () => {
  const text = answer([{
    inlineData: { mimeType: "image/png", data: "AAAA" },
  }]);
  for (const cut of [1, 20, text.length - 1]) {
    assert.throws(() => scan(text.slice(0, cut), 3), SyntaxError);
  }
  assert.throws(() => scan(text + "x", 3), SyntaxError);
  assert.throws(() => scan(`{"a":tru}`, 2), SyntaxError);
  assert.throws(() => scan(`{"a" 1}`, 2), SyntaxError);
  assert.throws(() => scan(`[1,]`, 1), SyntaxError);
});

Deno.test("scanner: the kept part of an answer is bounded", () => {
  const many = `[${Array(80_000).fill('"abcdefghij"').join(",")}]`;
  assert.throws(() => scan(many, 4096), AnswerTooLargeError);
  const deep = "[".repeat(100) + "]".repeat(100);
  assert.throws(() => scan(deep, 10), SyntaxError);
  // One long text is cut, not refused.
  const long = JSON.stringify({ text: "x".repeat(100_000) });
  const { tree } = scan(long, 1000);
  assert.ok((tree as { text: string }).text.length <= 16 * 1024);
});

Deno.test("base64 decoder: pieces split anywhere, whitespace, padding, errors", () => {
  const bytes = crypto.getRandomValues(new Uint8Array(1000));
  const text = bytes.toBase64();
  for (const size of [1, 3, 4, 5, 333]) {
    const d = createBase64Decoder();
    for (let i = 0; i < text.length; i += size) {
      d.push(text.slice(i, i + size) + (i % 2 ? "\n" : ""));
    }
    d.end();
    assert.equal(d.error, undefined);
    const out = new Uint8Array(d.bytes);
    let at = 0;
    for (const q of d.queue) (out.set(q, at), at += q.length);
    assert.deepEqual(out, bytes);
  }
  const url = createBase64Decoder();
  url.push(
    new Uint8Array([0xfb, 0xff, 0xfe]).toBase64({ alphabet: "base64url" }),
  );
  url.end();
  assert.equal(url.error, undefined);
  assert.deepEqual([...url.queue[0]!], [0xfb, 0xff, 0xfe]);
  for (const broken of [["AA==", "AAAA"], ["@@@@"], [""], ["A"]]) {
    const d = createBase64Decoder();
    for (const piece of broken) d.push(piece);
    d.end();
    assert.ok(d.error instanceof SyntaxError, JSON.stringify(broken));
  }
});

Deno.test("streamAnswer: the last non-thought image wins; the others' files go", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let n = 0;
    const temp = () => join(dir, `.image.tmp-${n++}`);
    const outcome = await streamAnswer(
      response(answer([
        { text: "thinking", thought: true },
        {
          inlineData: { mimeType: "image/png", data: png(1).toBase64() },
          thought: true,
        },
        { inlineData: { mimeType: "image/png", data: png(2).toBase64() } },
        {
          inlineData: { mimeType: "image/png", data: "!!broken!!" },
          thought: true,
        },
      ])),
      KEY,
      temp,
    );
    assert.ok(outcome.ok && "path" in outcome.image);
    assert.deepEqual(await Deno.readFile(outcome.image.path), png(2));
    assert.equal(outcome.image.bytes, 300);
    assert.equal(outcome.usage?.promptTokens, 3);
    const left = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert.deepEqual(left, [outcome.image.path.slice(dir.length + 1)]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("streamAnswer: text only, blocked, truncated, broken winner; no file left, no key", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let n = 0;
    const temp = () => join(dir, `.image.tmp-${n++}`);
    const textOnly = await streamAnswer(
      response(answer([{ text: `I cannot draw that, ${KEY}` }])),
      KEY,
      temp,
    );
    assert.ok(!textOnly.ok);
    assert.equal(textOnly.failure.kind, "no-image");
    assert.match(textOnly.failure.message, /text instead of an image/);
    assert.ok(!textOnly.failure.message.includes(KEY));

    const blocked = await streamAnswer(
      response(JSON.stringify({
        promptFeedback: { blockReason: "SAFETY" },
        usageMetadata: { promptTokenCount: 4 },
      })),
      KEY,
      temp,
    );
    assert.ok(!blocked.ok);
    assert.equal(blocked.failure.kind, "blocked");

    const whole = answer([{
      inlineData: { mimeType: "image/png", data: png(3, 30_000).toBase64() },
    }]);
    const truncated = await streamAnswer(
      response(whole.slice(0, whole.length / 2), 1000),
      KEY,
      temp,
    ).catch((error) => error);
    assert.ok(truncated instanceof SyntaxError);

    const broken = await streamAnswer(
      response(answer([{ inlineData: { mimeType: "image/png", data: "@@" } }])),
      KEY,
      temp,
    );
    assert.ok(!broken.ok);
    assert.equal(broken.failure.kind, "malformed");
    assert.match(broken.failure.message, /cannot be decoded/);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
