/**
 * Property tests of the one scrubber (K5, design.md §10). A seeded PRNG makes
 * thousands of random Google-shaped keys (`AIza…` 39 chars, `AQ.…`/`IQ.…`
 * 53 chars), hides random fragments of 8+ characters of each in messages in
 * every form an error text could carry them, and checks that `scrub()` leaves
 * no 8-character window of the key in any of those forms; that key-shaped
 * tokens are removed without being told the key; and that text without key
 * material passes through unchanged.
 */
import assert from "node:assert/strict";
import { createScrubber, FRAGMENT_LENGTH, REDACTED, scrub } from "./scrub.ts";

const KEYS = 1200;
const SEED = 0x5c12_b0b5;

/** mulberry32: small, fast, deterministic. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const between = (lo: number, hi: number) => lo + int(hi - lo + 1);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const chars = (alphabet: string, n: number) =>
    Array.from({ length: n }, () => alphabet[int(alphabet.length)]).join("");
  return { next, int, between, pick, chars };
}
type Rng = ReturnType<typeof prng>;

const OLD_ALPHABET =
  "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-";
const NEW_ALPHABET = OLD_ALPHABET + ".";

/** A random key: half old format, a third `AQ.`, the rest `IQ.`. */
function randomKey(rng: Rng, i: number): string {
  switch (i % 6) {
    case 0:
    case 1:
    case 2:
      return "AIza" + rng.chars(OLD_ALPHABET, 35);
    case 3:
    case 4:
      return "AQ." + rng.chars(NEW_ALPHABET, 50);
    default:
      return "IQ." + rng.chars(NEW_ALPHABET, 50);
  }
}

const WORDS = [
  "the",
  "request",
  "failed",
  "because",
  "API",
  "key",
  "not",
  "valid",
  "please",
  "pass",
  "a",
  "for",
  "project",
  "quota",
  "exceeded",
  "model",
  "image",
  "error",
  "status",
  "INVALID_ARGUMENT",
  "retry",
  "later",
  "Google",
  "Gemini",
  "generateContent",
  "https://generativelanguage.googleapis.com/v1beta/models",
  "reason:",
  "API_KEY_INVALID",
  "domain:",
  "googleapis.com",
  "(see",
  "docs)",
  "—",
  "über",
  "naïve",
  "日本語",
  "emoji🙂",
];

function words(rng: Rng, n: number): string {
  return Array.from({ length: n }, () => rng.pick(WORDS)).join(" ");
}

function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function base64url(bytes: Uint8Array): string {
  return base64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/** Inserts 1–3 runs of whitespace (newlines, spaces, indentation) into `text`. */
function splitAcrossLines(rng: Rng, text: string): string {
  const breaks = ["\n", " ", "\r\n", "\n    ", "  ", "\n\t"];
  const cuts = new Set<number>();
  const n = rng.between(1, 3);
  while (cuts.size < Math.min(n, text.length - 1)) {
    cuts.add(rng.between(1, text.length - 1));
  }
  let out = "";
  for (let i = 0; i < text.length; i++) {
    if (cuts.has(i)) out += rng.pick(breaks);
    out += text[i];
  }
  return out;
}

/** Random bytes that are not key material, to shift base64 alignment. */
function filler(rng: Rng, max: number): string {
  return rng.chars("!#$%&()*+,/:;<=>?@[]^{|}~ ", rng.int(max + 1));
}

/** The forms a fragment may take inside a message, by name. */
const HIDERS: Record<string, (rng: Rng, fragment: string) => string> = {
  raw: (_rng, f) => f,
  "url-encoded": (_rng, f) => `https://x.test/p?token=${encodeURIComponent(f)}`,
  "json-escaped": (rng, f) =>
    JSON.stringify({ error: { message: `${words(rng, 2)} ${f}` } }),
  base64: (rng, f) => base64(bytesOf(filler(rng, 5) + f + filler(rng, 5))),
  "base64, padded alone": (_rng, f) => base64(bytesOf(f)),
  base64url: (rng, f) =>
    base64url(bytesOf(filler(rng, 5) + f + filler(rng, 5))),
  "split across lines": (rng, f) => splitAcrossLines(rng, f),
  "base64 wrapped": (rng, f) =>
    base64(bytesOf(filler(rng, 5) + f + filler(rng, 5))).replace(
      /.{1,12}/g,
      (line) => line + "\n",
    ),
  "JSON-escaped, split across lines": (rng, f) =>
    JSON.stringify(splitAcrossLines(rng, f)),
};

/**
 * Every 8-character window of the key in each form a test could look for.
 * The last 2 characters of a base64 form depend on what follows the key, so
 * they are not key material on their own.
 */
function keyWindows(key: string): Set<string> {
  const forms = [
    key,
    encodeURIComponent(key),
    JSON.stringify(key).slice(1, -1),
  ];
  const bytes = bytesOf(key);
  for (let shift = 0; shift < 3; shift++) {
    const b64 = base64(bytes.subarray(shift)).replace(/=+$/, "");
    forms.push(b64.slice(0, -2), base64url(bytes.subarray(shift)).slice(0, -2));
  }
  const windows = new Set<string>();
  for (const form of forms) {
    for (let i = 0; i + FRAGMENT_LENGTH <= form.length; i++) {
      windows.add(form.slice(i, i + FRAGMENT_LENGTH));
    }
  }
  return windows;
}

/** The first window of the key found in `text`, also across whitespace. */
function leakedWindow(text: string, windows: Set<string>): string | undefined {
  const views = [
    text,
    text.replace(/\s+/g, ""),
    text.replace(/\\[nrt]|\s+/g, ""),
  ];
  for (const view of views) {
    for (let i = 0; i + FRAGMENT_LENGTH <= view.length; i++) {
      const w = view.slice(i, i + FRAGMENT_LENGTH);
      if (windows.has(w)) return w;
    }
  }
  return undefined;
}

Deno.test("[scrub] random fragments of 1,200 random keys, in 9 forms, leave no 8-char window behind", () => {
  const rng = prng(SEED);
  const formsSeen = new Map<string, number>();
  let checked = 0;
  for (let i = 0; i < KEYS; i++) {
    const key = randomKey(rng, i);
    const windows = keyWindows(key);
    // One scrubber per key, as callers do: building one costs more than a scan.
    const scrubber = createScrubber([key]);
    for (const [form, hide] of Object.entries(HIDERS)) {
      const length = rng.between(FRAGMENT_LENGTH, key.length);
      const start = rng.int(key.length - length + 1);
      const fragment = key.slice(start, start + length);
      const before = `«said» ${words(rng, rng.between(0, 6))}${
        rng.pick(["", " ", ": ", "\n"])
      }`;
      const after = `${rng.pick(["", " ", ". ", "\n"])}${
        words(rng, rng.between(0, 6))
      } «end»`;
      const message = before + hide(rng, fragment) + after;
      const out = scrubber.scrub(message);
      const leaked = leakedWindow(out, windows);
      assert.equal(
        leaked,
        undefined,
        `key #${i} ${key}, ${form} fragment ${fragment} (@${start}) leaked "${leaked}":\n${
          JSON.stringify(message)
        }\n→ ${JSON.stringify(out)}`,
      );
      assert.ok(
        out.includes(REDACTED),
        `${form}: a fragment was removed without a visible mark: ${out}`,
      );
      // Redacted, not dropped: the text around the fragment survives.
      assert.ok(out.startsWith("«said» "), `${form}: lost the start: ${out}`);
      assert.ok(out.endsWith(" «end»"), `${form}: lost the end: ${out}`);
      formsSeen.set(form, (formsSeen.get(form) ?? 0) + 1);
      checked++;
    }
  }
  assert.equal(checked, KEYS * Object.keys(HIDERS).length);
  assert.deepEqual([...formsSeen.keys()], Object.keys(HIDERS));
});

Deno.test("[scrub] secrets with characters that URL-encoding and JSON-escaping change are caught in those forms too", () => {
  // Google keys use only characters both encodings leave alone, so here the
  // secrets also hold quotes, slashes, `+`, `=`, `&`, `%`, `?`, `#` and non-ASCII.
  const rng = prng(SEED + 4);
  const alphabet = OLD_ALPHABET + `"/+=&%?#:;<>@!é€`;
  for (let i = 0; i < 300; i++) {
    const secret = rng.chars(alphabet, rng.between(20, 60));
    const windows = keyWindows(secret);
    for (const [form, hide] of Object.entries(HIDERS)) {
      const length = rng.between(FRAGMENT_LENGTH, secret.length);
      const start = rng.int(secret.length - length + 1);
      const fragment = secret.slice(start, start + length);
      const message = `«said» ${hide(rng, fragment)} «end»`;
      const out = scrub(message, [secret]);
      const leaked = leakedWindow(out, windows);
      assert.equal(
        leaked,
        undefined,
        `${form} fragment of ${JSON.stringify(secret)} leaked "${leaked}": ${
          JSON.stringify(out)
        }`,
      );
    }
  }
});

Deno.test("[scrub] the whole key in every form at once, several times, is gone", () => {
  const rng = prng(SEED + 1);
  for (let i = 0; i < 300; i++) {
    const key = randomKey(rng, i);
    const message = Object.values(HIDERS).map((hide) =>
      `${words(rng, 3)} ${hide(rng, key)}`
    ).join("\n");
    const out = scrub(message, [key]);
    assert.equal(leakedWindow(out, keyWindows(key)), undefined, out);
  }
});

Deno.test("[scrub] Google-key-shaped tokens are removed without being given any secret", () => {
  const rng = prng(SEED + 2);
  // Any non-word character may sit before or after a token.
  const lefts = [
    "",
    " ",
    "\n",
    "\t",
    '"',
    "'",
    "`",
    "=",
    ":",
    "(",
    "[",
    "{",
    "<",
    "/",
    ",",
    ";",
    "|",
    "key=",
  ];
  const rights = [
    "",
    " ",
    "\n",
    '"',
    "'",
    ")",
    "]",
    "}",
    ">",
    ",",
    ";",
    "&x=1",
    "\r\n",
  ];
  for (let i = 0; i < KEYS; i++) {
    const other = randomKey(rng, i);
    const message = `${words(rng, 3)} ${rng.pick(lefts)}${other}${
      rng.pick(rights)
    } ${words(rng, 3)}`;
    const out = scrub(message);
    assert.ok(!out.includes(other), `key-shaped token kept: ${out}`);
    const raw = new Set<string>();
    for (let j = 0; j + FRAGMENT_LENGTH <= other.length; j++) {
      raw.add(other.slice(j, j + FRAGMENT_LENGTH));
    }
    assert.equal(leakedWindow(out, raw), undefined, out);
    assert.ok(out.includes(REDACTED), out);
    // Also when a different key is the current one.
    const current = randomKey(rng, i + 1);
    assert.ok(!scrub(message, [current]).includes(other));
  }
});

/** Text that holds no key material, from logs, errors, pages and data. */
const ORDINARY = [
  "API key not valid. Please pass a valid API key.",
  "Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 0",
  "The caller does not have permission. Request had insufficient authentication scopes.",
  "Resource has been exhausted (e.g. check quota). Please retry in 37.5s.",
  '{"error":{"code":429,"message":"Too many requests","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"37s"}]}}',
  "POST https://generativelanguage.googleapis.com/v1beta/models/gemini-3-pro-image:generateContent 400 (Bad Request)",
  "2026-06-11T10:42:17.123Z info batch 0123456789abcdefghij0123456789ab finished: 12 of 12 images saved",
  "See FAQ.installation-guide.html and the IQ.test results; AQI is 42; key: value; a keyboard.",
  "A watercolor lighthouse at dawn, seagulls, soft mist, 4K, aspect ratio 16:9, cinematic lighting",
  "Une maison bleue adossée à la colline — 日本語のプロンプト — emoji 🙂🎨",
  "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 uuid 123e4567-e89b-12d3-a456-426614174000",
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs.",
  "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.",
  "Error: connect ECONNREFUSED 127.0.0.1:8443\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16)",
  "https://example.com/search?q=lighthouse&page=2&sort=newest#results",
  "Authorization: Bearer AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCd (workspace token, not a Gemini key)",
];

Deno.test("[scrub] text without key material is unchanged (no false positives)", () => {
  const rng = prng(SEED + 3);
  for (let i = 0; i < KEYS; i++) {
    const key = randomKey(rng, i);
    const scrubber = createScrubber([key]);
    for (const text of ORDINARY) {
      assert.equal(scrubber.scrub(text), text, `changed with ${key}`);
    }
    const sentence = words(rng, rng.between(5, 40));
    assert.equal(scrub(sentence, [key]), sentence);
  }
  for (const text of ORDINARY) assert.equal(scrub(text), text);
  assert.equal(scrub(""), "");
  assert.equal(scrub("", ["AIza" + "x".repeat(35)]), "");
});

// ---------------------------------------------------------------------------
// Spellings a red-team report got past the scrubber: each was echoed in an
// upstream error, stored, and decoded back to the key. Each test below fails
// when the normalisation or encoding that catches its spelling is removed.

const latin1 = (bytes: Uint8Array) => String.fromCharCode(...bytes);
const hexOf = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const codeHex = (c: string, width: number) =>
  c.charCodeAt(0).toString(16).padStart(width, "0");
const randomCase = (rng: Rng, text: string) =>
  rng.int(2) ? text.toUpperCase() : text;
const decodeHexRuns = (text: string) =>
  (text.match(/[\da-f]{2,}/gi) ?? []).flatMap((run) =>
    [0, 1].map((shift) =>
      latin1(
        Uint8Array.from(
          run.slice(shift).match(/../g) ?? [],
          (pair) => parseInt(pair, 16),
        ),
      )
    )
  );

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
function base32(bytes: Uint8Array): string {
  let bits = "";
  for (const b of bytes) bits += b.toString(2).padStart(8, "0");
  const out = (bits.match(/.{1,5}/g) ?? []).map((group) =>
    BASE32[parseInt(group.padEnd(5, "0"), 2)]
  ).join("");
  return out.padEnd(Math.ceil(out.length / 8) * 8, "=");
}
/** Every run of base32 letters, decoded from each of its first 8 characters. */
function decodeBase32Runs(text: string): string[] {
  return (text.match(/[A-Z2-7]{2,}/g) ?? []).flatMap((run) =>
    Array.from({ length: 8 }, (_, shift) => {
      const bits = [...run.slice(shift)].map((c) =>
        BASE32.indexOf(c).toString(2).padStart(5, "0")
      ).join("");
      return latin1(Uint8Array.from(
        bits.match(/.{8}/g) ?? [],
        (byte) => parseInt(byte, 2),
      ));
    })
  );
}

const ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"];

/**
 * How a spelling hides a fragment, and how a reader would undo it on the
 * scrubbed text: what `reveal` returns must hold no 8-char window of the key
 * (compared case-blind, since one spelling is upper-casing).
 */
interface Spelling {
  hide(rng: Rng, fragment: string): string;
  reveal(text: string): string[];
}

const SPELLINGS: Record<string, Spelling> = {
  "hex (either case, between other hex bytes)": {
    hide: (rng, f) =>
      randomCase(rng, hexOf(bytesOf(filler(rng, 5) + f + filler(rng, 5)))),
    reveal: decodeHexRuns,
  },
  "reversed": {
    hide: (_rng, f) => [...f].reverse().join(""),
    reveal: (text) => [[...text].reverse().join("")],
  },
  "upper-case": {
    hide: (_rng, f) => f.toUpperCase(),
    reveal: (text) => [text],
  },
  "zero-width characters interleaved": {
    hide: (rng, f) =>
      [...f].map((c) => c + rng.pick(ZERO_WIDTH)).join("").slice(0, -1),
    reveal: (text) => [text.replace(/\p{Cf}/gu, "")],
  },
  "split every 7 characters by |": {
    hide: (_rng, f) => f.replace(/.{7}(?=.)/g, "$&|"),
    reveal: (text) => [text.replaceAll("|", "")],
  },
  "HTML numeric entities (&#65; and &#x41;)": {
    hide: (rng, f) =>
      [...f].map((c) =>
        rng.int(2)
          ? `&#${c.charCodeAt(0)};`
          : `&#${rng.pick(["x", "X"])}${randomCase(rng, codeHex(c, 2))};`
      ).join(""),
    reveal: (text) => [
      text.replace(
        /&#(x?)([\da-f]+);/gi,
        (_m, x: string, n: string) =>
          String.fromCharCode(parseInt(n, x ? 16 : 10)),
      ),
    ],
  },
  "percent-encoding of every character, or of some (%41%49…)": {
    // Every character encoded is hex with `%` between, which the hex windows
    // catch even undecoded; mixed with plain characters it is not.
    hide: (rng, f) => {
      const every = rng.int(2) === 0;
      return [...f].map((c) =>
        every || rng.int(2) ? "%" + randomCase(rng, codeHex(c, 2)) : c
      ).join("");
    },
    reveal: (text) => [
      text.replace(
        /%([\da-f]{2})/gi,
        (_m, n) => String.fromCharCode(parseInt(n, 16)),
      ),
    ],
  },
  "base32 (RFC 4648, between other bytes)": {
    hide: (rng, f) => base32(bytesOf(filler(rng, 5) + f + filler(rng, 5))),
    reveal: decodeBase32Runs,
  },
  "fullwidth Unicode (ＡＩｚａ…)": {
    hide: (_rng, f) =>
      [...f].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join(""),
    reveal: (text) => [text.normalize("NFKC")],
  },
  "literal \\uXXXX escapes": {
    hide: (rng, f) =>
      [...f].map((c) => "\\u" + randomCase(rng, codeHex(c, 4))).join(""),
    reveal: (text) => [
      text.replace(
        /\\u([\da-f]{4})/gi,
        (_m, n) => String.fromCharCode(parseInt(n, 16)),
      ),
    ],
  },
  "literal \\xXX escapes": {
    hide: (rng, f) =>
      [...f].map((c) => "\\x" + randomCase(rng, codeHex(c, 2))).join(""),
    reveal: (text) => [
      text.replace(
        /\\x([\da-f]{2})/gi,
        (_m, n) => String.fromCharCode(parseInt(n, 16)),
      ),
    ],
  },
};

/** The first 8-char window of `key` in any of `views`, case-blind. */
function revealedWindow(key: string, views: string[]): string | undefined {
  const lower = key.toLowerCase();
  for (const view of views.map((v) => v.toLowerCase())) {
    for (let i = 0; i + FRAGMENT_LENGTH <= lower.length; i++) {
      const window = lower.slice(i, i + FRAGMENT_LENGTH);
      if (view.includes(window)) return window;
    }
  }
  return undefined;
}

for (const [name, spelling] of Object.entries(SPELLINGS)) {
  Deno.test(`[scrub] ${name}: random fragments and whole keys are redacted and do not decode back`, () => {
    const rng = prng(SEED + 10 + Object.keys(SPELLINGS).indexOf(name));
    let disguised = 0;
    for (let i = 0; i < 400; i++) {
      const key = randomKey(rng, i);
      const scrubber = createScrubber([key]);
      const length = rng.between(FRAGMENT_LENGTH, key.length);
      const start = rng.int(key.length - length + 1);
      for (const fragment of [key.slice(start, start + length), key]) {
        const hidden = spelling.hide(rng, fragment);
        const message = `«said» ${words(rng, rng.between(0, 4))} ${hidden} ${
          words(rng, rng.between(0, 4))
        } «end»`;
        // The reader finds the key, and the spelling hides it from a plain
        // search (mostly: upper-casing leaves a run like `X0Y_12-Z` alone):
        // else this test would pass with the old scrubber.
        assert.ok(revealedWindow(key, spelling.reveal(message)), message);
        if (leakedWindow(message, keyWindows(key)) === undefined) disguised++;
        const out = scrubber.scrub(message);
        const context = `key ${key}, fragment ${fragment}:\n${
          JSON.stringify(message)
        }\n→ ${JSON.stringify(out)}`;
        assert.ok(!out.includes(hidden), `still there: ${context}`);
        const revealed = revealedWindow(key, spelling.reveal(out));
        assert.equal(revealed, undefined, `decodes to ${revealed}: ${context}`);
        assert.ok(out.includes(REDACTED), context);
        assert.ok(out.startsWith("«said» "), `lost the start: ${context}`);
        assert.ok(out.endsWith(" «end»"), `lost the end: ${context}`);
      }
    }
    assert.ok(disguised >= 600, `only ${disguised} of 800 were disguised`);
  });
}

Deno.test("[scrub] a key spelt twice over (&amp;#65;, %2541, \\\\u0041) is found, and its whole original span is what goes", () => {
  const key = "AQ.Ab8RN6LkTestKeyCanary0123456789abcdefghijKLMNOPqrs";
  const entities = [...key].map((c) => `&amp;#${c.charCodeAt(0)};`).join("");
  const percent = [...key].map((c) => `%25${codeHex(c, 2)}`).join("");
  const escapes = [...key].map((c) => `\\\\u${codeHex(c, 4)}`).join("");
  for (const spelt of [entities, percent, escapes]) {
    assert.equal(
      scrub(`<p>Key ${spelt} is invalid.</p>`, [key]),
      `<p>Key ${REDACTED} is invalid.</p>`,
    );
  }
});

Deno.test("[scrub] long random hex digests and base64 image-like data are unchanged (no false positives)", () => {
  const rng = prng(SEED + 30);
  const randomBytes = (n: number) =>
    Uint8Array.from({ length: n }, () => rng.int(256));
  const texts = [
    Array.from({ length: 40 }, () => `sha256 ${hexOf(randomBytes(32))}`)
      .join("\n"),
    Array.from({ length: 20 }, () => `sha512=${hexOf(randomBytes(64))}`)
      .join(", "),
    `commit ${hexOf(randomBytes(20))} tree ${hexOf(randomBytes(20))}`,
    hexOf(randomBytes(4096)).toUpperCase(),
    `data:image/png;base64,${base64(randomBytes(12_000))}`,
    base64(randomBytes(6000)).replace(/.{76}/g, "$&\n"),
    `{"inlineData":{"mimeType":"image/jpeg","data":"${
      base64url(randomBytes(9000))
    }"}}`,
    '<a href="/p?q=a%20b&amp;x=1">caf&eacute; &#233; &#x1F3A8;</a> \\u00e9\\n "日本語のプロンプト" ＡＩ生成',
  ];
  for (let i = 0; i < 100; i++) {
    const scrubber = createScrubber([randomKey(rng, i)]);
    for (const text of texts) {
      const out = scrubber.scrub(text);
      assert.equal(out, text, `changed at ${out.indexOf(REDACTED)}`);
    }
  }
});
