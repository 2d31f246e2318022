/**
 * The views of a text that the scrubber (`scrub.ts`, K5) scans. A key echoed
 * in an error can be spelt in many ways (escaped, entity-encoded, fullwidth,
 * upper-cased, interleaved with invisible characters); a view undoes the
 * spelling so one set of windows finds them all, and remembers for each of
 * its characters the range of the original text it came from, so that the
 * original span is what gets redacted.
 */

/** A text as scanned: `text[i]` stands for `original.slice(from[i], to[i])`. */
export interface View {
  readonly text: string;
  readonly from: Int32Array;
  readonly to: Int32Array;
}

/**
 * Stands in a folded view for visible text that is not key material (`é`,
 * `«`, `日`, emoji). No window holds it, so no match runs through it: skipping
 * such text like a separator would glue the words around a key onto it and
 * redact a letter or two of them whenever they happen to continue the key.
 */
export const BREAK = " ";
const BREAK_CODE = BREAK.charCodeAt(0);

/** The text as it was, less whitespace and the escapes `\n`, `\r`, `\t`. */
export function literalView(text: string): View {
  const view = identity(text);
  return rewrite(view, /\s+|\\[nrt]/g, () => "") ?? view;
}

/**
 * The text reduced to key characters: escapes decoded (HTML numeric and common
 * named entities, `%XX`, `\uXXXX`, `\u{…}`, `\xXX`, JSON's `\n` and the like;
 * three rounds, for text escaped twice over), then each code point
 * NFKC-normalised and lower-cased; `[a-z0-9._~-]` is kept, other ASCII,
 * whitespace, control, format (Cf: zero-width and the like) and combining
 * characters are skipped as separators, and any other character becomes a
 * `BREAK`.
 */
export function foldedView(text: string): View {
  let view = identity(text);
  for (let round = 0; round < 3; round++) {
    const decoded = rewrite(view, ESCAPE, decodeEscape);
    if (!decoded) break;
    view = decoded;
  }
  return fold(view);
}

const ESCAPE =
  /&#(\d{1,7});?|&#x([\da-f]{1,6});?|&(amp|lt|gt|quot|apos|nbsp);|%([\da-f]{2})|\\u\{([\da-f]{1,6})\}|\\u([\da-f]{4})|\\x([\da-f]{2})|\\([\\nrtbfv])/gi;
const NAMED: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: "\u00a0",
};

function decodeEscape(m: RegExpExecArray): string {
  const [, dec, hex1, name, hex2, hex3, hex4, hex5, escaped] = m;
  if (name) return NAMED[name.toLowerCase()]!;
  // `\\` is kept a backslash for the next round: `\\u0041` is `\u0041`
  // escaped once more, not a backslash and an `A`.
  if (escaped) return escaped === "\\" ? "\\" : " ";
  const hex = hex1 ?? hex2 ?? hex3 ?? hex4 ?? hex5;
  const code = dec ? parseInt(dec, 10) : parseInt(hex!, 16);
  return code <= 0x10ffff ? String.fromCodePoint(code) : "\ufffd";
}

function identity(text: string): View {
  const from = new Int32Array(text.length);
  const to = new Int32Array(text.length);
  for (let i = 0; i < text.length; i++) {
    from[i] = i;
    to[i] = i + 1;
  }
  return { text, from, to };
}

/** Replaces each match of `pattern` in `view`; undefined when none matched. */
function rewrite(
  view: View,
  pattern: RegExp,
  replace: (m: RegExpExecArray) => string,
): View | undefined {
  const { text } = view;
  pattern.lastIndex = 0;
  let m = pattern.exec(text);
  if (!m) return undefined;
  // Every rewrite here shortens its match, so the view never grows.
  const from = new Int32Array(text.length);
  const to = new Int32Array(text.length);
  const parts: string[] = [];
  let length = 0;
  let last = 0;
  const copy = (start: number, end: number) => {
    parts.push(text.slice(start, end));
    from.set(view.from.subarray(start, end), length);
    to.set(view.to.subarray(start, end), length);
    length += end - start;
  };
  for (; m; m = pattern.exec(text)) {
    copy(last, m.index);
    last = m.index + m[0].length;
    const chars = replace(m);
    parts.push(chars);
    from.fill(view.from[m.index]!, length, length + chars.length);
    to.fill(view.to[last - 1]!, length, length + chars.length);
    length += chars.length;
  }
  copy(last, text.length);
  return {
    text: parts.join(""),
    from: from.subarray(0, length),
    to: to.subarray(0, length),
  };
}

/** What each ASCII character folds to: itself lower-cased, or nothing. */
const ASCII = Array.from({ length: 128 }, (_, code) => {
  const c = String.fromCharCode(code).toLowerCase();
  return /[a-z0-9._~-]/.test(c) ? c : "";
});
const SEPARATOR = /^[\p{White_Space}\p{Cc}\p{Cf}\p{M}]$/u;

/** What a non-ASCII code point folds to. */
function foldRare(code: number): string {
  let out = "";
  const nfkc = String.fromCodePoint(code).normalize("NFKC").toLowerCase();
  for (const c of nfkc) {
    const cc = c.codePointAt(0)!;
    out += cc < 128 ? ASCII[cc] : SEPARATOR.test(c) ? "" : BREAK;
  }
  return out;
}

function fold(view: View): View {
  const { text } = view;
  // Per text, not per module: which characters a key was spelt in is not
  // kept after the request (K6).
  const rare = new Map<number, string>();
  // NFKC can expand one code point into several key characters (`ﬃ`, `㎏`).
  let capacity = text.length + 16;
  let out = new Uint8Array(capacity);
  let from = new Int32Array(capacity);
  let to = new Int32Array(capacity);
  let k = 0;
  for (let i = 0; i < text.length;) {
    const code = text.codePointAt(i)!;
    const width = code > 0xffff ? 2 : 1;
    let chars = ASCII[code];
    if (chars === undefined) {
      chars = rare.get(code) ?? foldRare(code);
      rare.set(code, chars);
    }
    if (k + chars.length > capacity) {
      capacity = 2 * capacity + chars.length;
      out = grow(out, new Uint8Array(capacity));
      from = grow(from, new Int32Array(capacity));
      to = grow(to, new Int32Array(capacity));
    }
    for (let j = 0; j < chars.length; j++) {
      if (chars[j] === BREAK && k > 0 && out[k - 1] === BREAK_CODE) continue;
      out[k] = chars.charCodeAt(j);
      from[k] = view.from[i]!;
      to[k] = view.to[i + width - 1]!;
      k++;
    }
    i += width;
  }
  return {
    text: ascii.decode(out.subarray(0, k)),
    from: from.subarray(0, k),
    to: to.subarray(0, k),
  };
}

const ascii = new TextDecoder();

function grow<T extends Uint8Array | Int32Array>(array: T, bigger: T): T {
  bigger.set(array);
  return bigger;
}

/** Folded characters' codes, 1–40; 0 for `BREAK` and anything else. */
const CODES = new Uint8Array(128);
[..."abcdefghijklmnopqrstuvwxyz0123456789._~-"].forEach((c, i) => {
  CODES[c.charCodeAt(0)] = i + 1;
});

/**
 * Calls `each` for every window of `size` (at most 8) characters of a folded
 * text without a `BREAK`, with its end, its code (6 bits per character, so a
 * scan never cuts a string per position) and, when the `size` characters
 * before it are a window too, their code (else -1).
 */
export function eachWindow(
  text: string,
  size: number,
  each: (end: number, code: number, head: number) => void,
) {
  const last = new Float64Array(size);
  let code = 0;
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const c = CODES[text.charCodeAt(i)]!;
    if (c === 0) {
      code = run = 0;
      continue;
    }
    code = (code % 64 ** (size - 1)) * 64 + c;
    if (++run < size) continue;
    each(i, code, run >= 2 * size ? last[i % size]! : -1);
    last[i % size] = code;
  }
}
