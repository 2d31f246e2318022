/**
 * The one scrubber (invariant K5). Every text that came from Google, the SDK,
 * the network or the generator passes through `scrub()` before it is shown,
 * logged or saved.
 *
 * It removes:
 * - any token shaped like a Google key (`AIza…`, `AQ.…`, `IQ.…`), whoever's;
 * - `key=` query parameters;
 * - for each secret given: every run of 8+ characters that also occurs in the
 *   secret, in its raw, URL-encoded, JSON-escaped, base64 and base64url forms,
 *   also when the run is broken up by whitespace or line breaks (also
 *   JSON-escaped ones, `\n`);
 * - the same runs however they are spelt (see `scrub_normalize.ts`): in any
 *   case, fullwidth or otherwise NFKC-equivalent, as HTML entities, `%XX`,
 *   `\uXXXX` or `\xXX` escapes, interleaved with separators or invisible
 *   characters; and in the secret's hex (16+ digits), base32 and reversed
 *   forms as well.
 */

import {
  eachWindow,
  foldedView,
  literalView,
  type View,
} from "./scrub_normalize.ts";

export const REDACTED = "[REDACTED]";

/** Shortest fragment of a secret that counts as key material. */
export const FRAGMENT_LENGTH = 8;

/** True when `text` holds a token shaped like a Google API key. */
export function looksLikeApiKey(text: string): boolean {
  return KEY_SHAPED.slice(0, 2).some((pattern) => {
    pattern.lastIndex = 0;
    return pattern.test(text);
  });
}

const KEY_SHAPED = [
  /AIza[0-9A-Za-z_-]{20,}/g,
  /\b[AI]Q\.[0-9A-Za-z_\-.~]{10,}/g,
  /([?&](?:key|api_key|apiKey)=)[^&\s"'<>]+/gi,
];

/** A scrubber bound to a fixed set of secrets, their fragments worked out once. */
export interface Scrubber {
  /** Removes key material from `text`; see the module doc for what counts. */
  scrub(text: string): string;
  /** Deep-scrubs every string inside a JSON-like value. */
  scrubValue<T>(value: T): T;
}

/**
 * Builds a scrubber for `secrets`. Working out a secret's fragment windows
 * costs far more than scanning a short text, so a caller that scrubs many
 * texts with the same key (a run's events, a request's log lines) builds one
 * scrubber and keeps it.
 */
export function createScrubber(secrets: readonly string[] = []): Scrubber {
  const short = secrets.filter((s) =>
    s.length >= 4 && s.length < FRAGMENT_LENGTH
  );
  const windows = secrets.filter((s) => s.length >= FRAGMENT_LENGTH)
    .map(secretWindows);
  function scrubText(text: string): string {
    let out = text;
    for (const secret of short) out = out.split(secret).join(REDACTED);
    if (windows.length > 0) out = removeWindows(out, windows);
    for (const pattern of KEY_SHAPED) {
      out = out.replace(
        pattern,
        (_m, prefix?: string) =>
          typeof prefix === "string" && prefix.includes("=")
            ? prefix + REDACTED
            : REDACTED,
      );
    }
    return out;
  }
  function scrubDeep<T>(value: T): T {
    if (typeof value === "string") return scrubText(value) as T;
    if (Array.isArray(value)) return value.map(scrubDeep) as T;
    if (value && typeof value === "object") {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, scrubDeep(v)]),
      ) as T;
    }
    return value;
  }
  return { scrub: scrubText, scrubValue: scrubDeep };
}

/** Removes key material from `text`; see the module doc for what counts. */
export function scrub(text: string, secrets: readonly string[] = []): string {
  return createScrubber(secrets).scrub(text);
}

/** Scrubs an unknown thrown value into a safe one-line-or-more message. */
export function scrubError(error: unknown, secrets: readonly string[] = []) {
  const text = error instanceof Error
    ? `${error.name}: ${error.message}`
    : String(error);
  return scrub(text, secrets);
}

/** Deep-scrubs every string inside a JSON-like value. */
export function scrubValue<T>(value: T, secrets: readonly string[] = []): T {
  return createScrubber(secrets).scrubValue(value);
}

/** The forms a secret's fragments are looked for in, as the old scrubber did. */
function encodings(secret: string): string[] {
  const forms = new Set<string>([secret]);
  forms.add(encodeURIComponent(secret));
  forms.add(JSON.stringify(secret).slice(1, -1));
  // A fragment starting at any offset encodes like the whole secret shifted
  // by 0, 1 or 2 bytes, so three alignments cover every fragment's interior.
  const bytes = new TextEncoder().encode(secret);
  for (let shift = 0; shift < 3; shift++) {
    const b64 = toBase64(bytes.subarray(shift));
    forms.add(b64.replace(/=+$/, ""));
    forms.add(b64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""));
  }
  return [...forms].filter((f) => f.length > 0);
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** RFC 4648 base32, unpadded. */
function toBase32(bytes: Uint8Array): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let out = "";
  let value = 0;
  let bits = 0;
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xfff;
    for (bits += 8; bits >= 5; bits -= 5) {
      out += alphabet[(value >> (bits - 5)) & 31];
    }
  }
  return bits > 0 ? out + alphabet[(value << (5 - bits)) & 31] : out;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** `text` backwards; only for ASCII, which the folded and hex forms are. */
const reversed = (text: string) => text.split("").reverse().join("");

const HEX_WINDOW = 2 * FRAGMENT_LENGTH;

/**
 * A secret's windows. A hex window is 16 digits, 8 key bytes, so that random
 * hex such as a sha256 digest practically never matches.
 */
interface SecretWindows {
  /** Exact windows of `encodings()`, scanned in `literalView`. */
  literal: Set<string>;
  /** Codes of the folded windows of every form, scanned in `foldedView`. */
  folded: Set<number>;
  /** Codes of the hex windows' first halves, to look up the whole only then. */
  hexHeads: Set<number>;
  hex: Set<string>;
}

function secretWindows(secret: string): SecretWindows {
  const forms = encodings(secret);
  const literal = new Set<string>();
  for (const form of forms) {
    for (let i = 0; i + FRAGMENT_LENGTH <= form.length; i++) {
      literal.add(form.slice(i, i + FRAGMENT_LENGTH));
    }
  }
  const bytes = new TextEncoder().encode(secret);
  // Like base64's three, five alignments cover base32's 5-byte groups.
  for (let shift = 0; shift < 5; shift++) {
    forms.push(toBase32(bytes.subarray(shift)));
  }
  // Each form read backwards too: the reversed key, its reversed base64, …
  const folded = forms.map((form) => foldedView(form).text);
  folded.push(...folded.map(reversed));
  const hex = [
    toHex(bytes),
    reversed(toHex(bytes)),
    toHex(new TextEncoder().encode([...secret].reverse().join(""))),
  ];
  const windows: SecretWindows = {
    literal,
    folded: new Set(),
    hexHeads: new Set(),
    hex: new Set(),
  };
  for (const form of folded) {
    eachWindow(form, FRAGMENT_LENGTH, (_end, code) => windows.folded.add(code));
  }
  for (const form of hex) {
    eachWindow(form, FRAGMENT_LENGTH, (end, _code, head) => {
      if (head < 0) return;
      windows.hexHeads.add(head);
      windows.hex.add(form.slice(end + 1 - HEX_WINDOW, end + 1));
    });
  }
  return windows;
}

/** Replaces every run of text covered by one of the windows with `REDACTED`. */
function removeWindows(
  text: string,
  secrets: readonly SecretWindows[],
): string {
  // The literal view finds what the folded one cannot, such as a base64 run
  // whose `+` and `/` (skipped when folding) leave fewer than 8 characters.
  const literal = literalView(text);
  const folded = foldedView(text);
  const hit = new Uint8Array(text.length);
  const mark = (view: View, end: number, size: number) =>
    hit.fill(1, view.from[end - size + 1], view.to[end]);
  for (const windows of secrets) {
    for (let i = 0; i + FRAGMENT_LENGTH <= literal.text.length; i++) {
      const window = literal.text.slice(i, i + FRAGMENT_LENGTH);
      if (windows.literal.has(window)) {
        mark(literal, i + FRAGMENT_LENGTH - 1, FRAGMENT_LENGTH);
      }
    }
    eachWindow(folded.text, FRAGMENT_LENGTH, (end, code, head) => {
      if (windows.folded.has(code)) mark(folded, end, FRAGMENT_LENGTH);
      if (
        windows.hexHeads.has(head) &&
        windows.hex.has(folded.text.slice(end + 1 - HEX_WINDOW, end + 1))
      ) mark(folded, end, HEX_WINDOW);
    });
  }
  let start = hit.indexOf(1);
  if (start < 0) return text;
  let out = text.slice(0, start);
  while (start >= 0) {
    const end = hit.indexOf(0, start);
    if (end < 0) return out + REDACTED;
    start = hit.indexOf(1, end);
    out += REDACTED + text.slice(end, start < 0 ? text.length : start);
  }
  return out;
}
