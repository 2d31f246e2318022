/**
 * Decodes base64 text that arrives in pieces into bytes, four characters at
 * a time, so an image is never whole in memory: each piece's bytes are
 * queued and written to a file by `drain`. Whitespace is skipped, the URL
 * alphabet accepted; anything else that is not base64 is an error, kept (not
 * thrown) so the scanner can read on: it matters only if this image wins.
 */

/** One image's decoder; its bytes wait in `queue` until drained. */
export interface Base64Decoder {
  push(text: string): void;
  end(): void;
  /** Decoded bytes not written yet. */
  queue: Uint8Array[];
  /** Bytes decoded so far. */
  bytes: number;
  /** Why the text is not valid base64, once it is known. */
  error?: SyntaxError;
}

const NOT_BASE64 = /[^A-Za-z0-9+/=]/;
const WHITESPACE = /[\t\n\f\r ]+/g;

export function createBase64Decoder(): Base64Decoder {
  let carry = "";
  let padded = false;
  const decoder: Base64Decoder = {
    queue: [],
    bytes: 0,
    push(text) {
      if (decoder.error) return;
      let chars = carry + text;
      if (/[\t\n\f\r ]/.test(chars)) chars = chars.replace(WHITESPACE, "");
      if (chars.includes("-") || chars.includes("_")) {
        chars = chars.replaceAll("-", "+").replaceAll("_", "/");
      }
      if (chars.length === 0) return;
      if (NOT_BASE64.test(chars)) return fail("Image data is not base64");
      if (padded) return fail("Image data goes on after its padding");
      const eq = chars.indexOf("=");
      if (eq >= 0 && /[^=]/.test(chars.slice(eq))) {
        return fail("Image data goes on after its padding");
      }
      if (eq >= 0) padded = true;
      const whole = eq >= 0 ? chars.length : chars.length - chars.length % 4;
      carry = chars.slice(whole);
      if (whole > 0) decode(chars.slice(0, whole));
    },
    end() {
      if (decoder.error) return;
      if (carry) decode(carry);
      carry = "";
      if (!decoder.error && decoder.bytes === 0) fail("Image data is empty");
    },
  };
  function decode(text: string) {
    try {
      const bytes = Uint8Array.fromBase64(text);
      decoder.bytes += bytes.length;
      if (bytes.length) decoder.queue.push(bytes);
    } catch (error) {
      fail(error instanceof Error ? error.message : String(error));
    }
  }
  function fail(message: string) {
    decoder.error = new SyntaxError(message);
    decoder.queue.length = 0;
  }
  return decoder;
}
