/**
 * A streaming reader of a `generateContent` answer (issue 13 §2). It is fed
 * the body chunk by chunk and builds the answer's small parts as plain JSON
 * values (finishReason, blockReason, text parts, usageMetadata…), but every
 * `inlineData.data` string goes, as it arrives, to a sink that decodes the
 * base64 in chunks: the whole body, the base64 string and the image are
 * never in memory. In the tree such a string is replaced by its sink's id,
 * so `parseGenerateResponse` picks the winning image exactly as before.
 *
 * Bounded: a kept string stops growing at `MAX_KEPT_STRING` bytes, the kept
 * tree at `MAX_KEPT_BYTES`, nesting at `MAX_DEPTH`. Malformed JSON throws a
 * SyntaxError, like `JSON.parse`.
 */

/** Receives one image's base64 text as it arrives. */
export interface Base64Sink {
  /** What the tree holds in place of the string ("" when it was empty). */
  readonly id: string;
  push(text: string): void;
  end(): void;
}

/** Most bytes of one kept (non-image) string; the rest is dropped. */
export const MAX_KEPT_STRING = 16 * 1024;
/** Most bytes of the kept tree (strings plus a cost per value). */
export const MAX_KEPT_BYTES = 1024 * 1024;
export const MAX_DEPTH = 64;
const NODE_COST = 16;

/** The kept part of an answer outgrew MAX_KEPT_BYTES. */
export class AnswerTooLargeError extends SyntaxError {
  override name = "AnswerTooLargeError";
  constructor() {
    super("the answer holds more than BatchGen reads besides images");
  }
}

type Container =
  | {
    kind: "object";
    value: Record<string, unknown>;
    key?: string;
    /** The key this object is the value of, if any. */
    name?: string;
  }
  | { kind: "array"; value: unknown[] };

const enum S {
  Value,
  ValueOrEnd, // after "[": a value or "]"
  KeyOrEnd, // after "{": a key or "}"
  Key, // after ",": a key
  Colon,
  CommaOrEnd,
  String,
  Escape,
  Unicode,
  Scalar,
  Done,
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const utf8 = new TextDecoder();

/** A scanner for one answer; `openImage` makes the sink of each image. */
export function createAnswerScanner(openImage: () => Base64Sink) {
  const stack: Container[] = [];
  let state = S.Value;
  let root: unknown;
  let kept = 0;
  // The string being read: a key, a kept value, or an image.
  let stringKind: "key" | "keep" | "image" = "keep";
  let raw: Uint8Array[] = [];
  let rawBytes = 0;
  let sink: Base64Sink | undefined;
  let sinkChars = 0;
  let unicode = "";
  let scalar = "";

  function spend(cost: number) {
    kept += cost;
    if (kept > MAX_KEPT_BYTES) throw new AnswerTooLargeError();
  }

  function put(value: unknown) {
    spend(NODE_COST);
    const top = stack[stack.length - 1];
    if (!top) {
      root = value;
      state = S.Done;
      return;
    }
    if (top.kind === "array") top.value.push(value);
    else {
      const key = top.key!;
      top.key = undefined;
      // JSON.parse makes "__proto__" an own property; a plain assignment
      // would set the prototype instead. Nothing BatchGen reads is named so.
      if (key !== "__proto__") top.value[key] = value;
    }
    state = S.CommaOrEnd;
  }

  function open(container: Container) {
    if (stack.length >= MAX_DEPTH) {
      throw new SyntaxError("Google's answer is nested too deeply");
    }
    const parent = stack[stack.length - 1];
    if (container.kind === "object" && parent?.kind === "object") {
      container.name = parent.key;
    }
    put(container.value);
    stack.push(container);
    state = container.kind === "array" ? S.ValueOrEnd : S.KeyOrEnd;
  }

  function close(kind: Container["kind"]) {
    const top = stack.pop();
    if (!top || top.kind !== kind) {
      throw unexpected(kind === "array" ? "]" : "}");
    }
    state = stack.length === 0 ? S.Done : S.CommaOrEnd;
  }

  function startString() {
    const top = stack[stack.length - 1];
    if (state === S.KeyOrEnd || state === S.Key) stringKind = "key";
    else if (
      top?.kind === "object" && top.key === "data" &&
      top.name === "inlineData"
    ) {
      stringKind = "image";
      sink = openImage();
      sinkChars = 0;
    } else stringKind = "keep";
    raw = [];
    rawBytes = 0;
    state = S.String;
  }

  function keepRaw(bytes: Uint8Array) {
    if (stringKind === "image") {
      if (bytes.length) {
        sinkChars += bytes.length;
        // Base64 is ASCII: UTF-8 decoding is the fast path, and any other
        // byte becomes U+FFFD, which the decoder refuses.
        sink!.push(utf8.decode(bytes));
      }
      return;
    }
    const room = MAX_KEPT_STRING - rawBytes;
    if (room <= 0 || bytes.length === 0) return;
    const part = bytes.length > room ? bytes.subarray(0, room) : bytes;
    raw.push(part.slice());
    rawBytes += part.length;
  }

  // An escape inside an image string: only what base64 text can hold.
  function imageEscape(char: string) {
    sinkChars++;
    sink!.push(char);
  }

  function endString() {
    if (stringKind === "image") {
      sink!.end();
      const id = sinkChars > 0 ? sink!.id : "";
      sink = undefined;
      put(id);
      return;
    }
    const text = decodeKept(raw, rawBytes);
    raw = [];
    if (stringKind === "key") {
      spend(text.length);
      const top = stack[stack.length - 1] as Container & { kind: "object" };
      top.key = text;
      state = S.Colon;
      return;
    }
    spend(text.length);
    put(text);
  }

  function endScalar() {
    const text = scalar;
    scalar = "";
    if (text === "true") put(true);
    else if (text === "false") put(false);
    else if (text === "null") put(null);
    else if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(text)) {
      put(Number(text));
    } else throw new SyntaxError(`Unexpected token in Google's answer`);
  }

  function feed(chunk: Uint8Array) {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (state === S.String) {
        // The hot loop: find the string's end or next escape natively.
        const q = chunk.indexOf(QUOTE, i);
        const b = chunk.indexOf(BACKSLASH, i);
        const stop = q < 0 ? b : b < 0 ? q : Math.min(q, b);
        const end = stop < 0 ? n : stop;
        const run = chunk.subarray(i, end);
        if (hasControl(run)) {
          throw new SyntaxError("Bad control character in string literal");
        }
        keepRaw(run);
        if (stop < 0) return;
        i = stop + 1;
        if (stop === q) endString();
        else {
          state = S.Escape;
          if (stringKind !== "image") keepRaw(chunk.subarray(stop, stop + 1));
        }
        continue;
      }
      const c = chunk[i]!;
      if (state === S.Escape) {
        i++;
        if (c === 0x75 /* u */) {
          unicode = "";
          state = S.Unicode;
          if (stringKind !== "image") keepRaw(chunk.subarray(i - 1, i));
          continue;
        }
        const char = ESCAPES[c];
        if (char === undefined) throw new SyntaxError("Bad escaped character");
        if (stringKind === "image") imageEscape(char);
        else keepRaw(chunk.subarray(i - 1, i));
        state = S.String;
        continue;
      }
      if (state === S.Unicode) {
        i++;
        if (!isHex(c)) throw new SyntaxError("Bad Unicode escape");
        unicode += String.fromCharCode(c);
        if (stringKind !== "image") keepRaw(chunk.subarray(i - 1, i));
        if (unicode.length === 4) {
          if (stringKind === "image") {
            imageEscape(String.fromCharCode(parseInt(unicode, 16)));
          }
          state = S.String;
        }
        continue;
      }
      if (state === S.Scalar) {
        if (isScalarChar(c)) {
          scalar += String.fromCharCode(c);
          if (scalar.length > 64) throw new SyntaxError("Bad number");
          i++;
          continue;
        }
        endScalar();
        continue; // the delimiter is read in the new state
      }
      i++;
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
      switch (state) {
        case S.Value:
        case S.ValueOrEnd:
          if (c === 0x5d /* ] */ && state === S.ValueOrEnd) close("array");
          else if (c === 0x7b /* { */) open({ kind: "object", value: {} });
          else if (c === 0x5b /* [ */) open({ kind: "array", value: [] });
          else if (c === QUOTE) startString();
          else if (isScalarChar(c)) {
            scalar = String.fromCharCode(c);
            state = S.Scalar;
          } else throw unexpected(String.fromCharCode(c));
          break;
        case S.KeyOrEnd:
        case S.Key:
          if (c === QUOTE) startString();
          else if (c === 0x7d /* } */ && state === S.KeyOrEnd) close("object");
          else throw unexpected(String.fromCharCode(c));
          break;
        case S.Colon:
          if (c !== 0x3a) throw unexpected(String.fromCharCode(c));
          state = S.Value;
          break;
        case S.CommaOrEnd: {
          const top = stack[stack.length - 1]!;
          if (c === 0x2c /* , */) {
            state = top.kind === "array" ? S.Value : S.Key;
          } else if (c === 0x5d) close("array");
          else if (c === 0x7d) close("object");
          else throw unexpected(String.fromCharCode(c));
          break;
        }
        case S.Done:
          throw unexpected(String.fromCharCode(c));
      }
    }
  }

  /** The answer's kept tree; throws when the body ended too early. */
  function finish(): unknown {
    if (state === S.Scalar && stack.length === 0) endScalar();
    if (state !== S.Done) {
      throw new SyntaxError("Unexpected end of JSON input");
    }
    return root;
  }

  return { feed, finish };
}

const ESCAPES: Record<number, string> = {
  0x22: '"',
  0x5c: "\\",
  0x2f: "/",
  0x62: "\b",
  0x66: "\f",
  0x6e: "\n",
  0x72: "\r",
  0x74: "\t",
};

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) ||
    (c >= 0x61 && c <= 0x66);
}

function isScalarChar(c: number): boolean {
  // Digits, sign, dot, exponent and the letters of true/false/null.
  return (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b ||
    c === 0x2e || (c >= 0x61 && c <= 0x7a) || c === 0x45;
}

function hasControl(bytes: Uint8Array): boolean {
  // Only short runs are checked byte by byte; long ones (image data) rely
  // on the base64 decoder, which refuses control characters too.
  if (bytes.length > 256) return false;
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! < 0x20) return true;
  return false;
}

function unexpected(token: string): SyntaxError {
  return new SyntaxError(
    `Unexpected token in Google's answer: ${JSON.stringify(token)}`,
  );
}

// A kept string's raw bytes (escapes still in) → its text. A string cut at
// MAX_KEPT_STRING may end inside an escape: drop its tail until it parses.
function decodeKept(parts: Uint8Array[], total: number): string {
  let bytes: Uint8Array;
  if (parts.length === 1) bytes = parts[0]!;
  else {
    bytes = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
  }
  const text = utf8.decode(bytes);
  if (!text.includes("\\")) return text;
  for (let cut = 0; cut <= 6 && cut < text.length + 1; cut++) {
    try {
      return JSON.parse(`"${text.slice(0, text.length - cut)}"`);
    } catch {
      // Try a shorter tail.
    }
  }
  throw new SyntaxError("Bad string in Google's answer");
}
