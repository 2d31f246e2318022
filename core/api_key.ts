/**
 * Reading a Gemini key from a request. Keys come in several shapes (`AIza…`,
 * `AQ.…`, `IQ.…`), so only the character set and length are checked, never a
 * prefix (gemini-api.md §6).
 */

import { refuse, type Result } from "./result.ts";

const KEY_SHAPE = /^[A-Za-z0-9._~\-]{20,200}$/;

/** Trims and checks a pasted key; the message never repeats the input. */
export function parseApiKey(raw: unknown): Result<string> {
  if (typeof raw !== "string" || raw.trim() === "") {
    return refuse("missing_key", "Paste your Gemini API key first.");
  }
  const key = raw.trim();
  // deno-lint-ignore no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(key)) {
    return refuse(
      "missing_key",
      "That key contains spaces, line breaks or control characters. Copy it again from Google AI Studio.",
    );
  }
  if (!KEY_SHAPE.test(key)) {
    return refuse(
      "missing_key",
      "That does not look like a Gemini API key (20–200 letters, digits and . _ ~ -). Copy it again from Google AI Studio.",
    );
  }
  return { ok: true, value: key };
}
