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
 *   JSON-escaped ones, `\n`).
 */

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
  const removers = secrets.filter((s) => s).map(fragmentRemover);
  function scrubText(text: string): string {
    let out = text;
    for (const remove of removers) out = remove(out);
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

/** A function removing `secret`'s fragments from a text. */
function fragmentRemover(secret: string): (text: string) => string {
  if (secret.length < FRAGMENT_LENGTH) {
    return secret.length >= 4
      ? (text) => text.split(secret).join(REDACTED)
      : (text) => text;
  }
  const windows = new Set<string>();
  for (const form of encodings(secret)) {
    for (let i = 0; i + FRAGMENT_LENGTH <= form.length; i++) {
      windows.add(form.slice(i, i + FRAGMENT_LENGTH));
    }
  }
  return (text) => removeWindows(text, windows);
}

/** Removes every run of text covered by one of `windows`. */
function removeWindows(text: string, windows: ReadonlySet<string>): string {
  // Scan the text with whitespace taken out, so a secret split across lines
  // is still found, and map each hit back to the original positions. The
  // escapes `\n`, `\r` and `\t` count as whitespace too: a split secret in a
  // JSON-escaped text (a log line, an error body) is still the secret.
  const positions: number[] = [];
  let compact = "";
  for (let i = 0; i < text.length; i++) {
    if (/\s/.test(text[i]!)) continue;
    if (text[i] === "\\" && /[nrt]/.test(text[i + 1] ?? "")) {
      i++;
      continue;
    }
    positions.push(i);
    compact += text[i];
  }
  const hit = new Uint8Array(text.length);
  let found = false;
  for (let i = 0; i + FRAGMENT_LENGTH <= compact.length; i++) {
    if (!windows.has(compact.slice(i, i + FRAGMENT_LENGTH))) continue;
    found = true;
    const from = positions[i]!;
    const to = positions[i + FRAGMENT_LENGTH - 1]!;
    hit.fill(1, from, to + 1);
  }
  if (!found) return text;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    if (!hit[i]) {
      out += text[i];
    } else if (i === 0 || !hit[i - 1]) {
      out += REDACTED;
    }
  }
  return out;
}
