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

export function createBase64Decoder(): Base64Decoder {
  let carry = "";
  let padded = false;
  let alphabet: "base64" | "base64url" = "base64";
  const decoder: Base64Decoder = {
    queue: [],
    bytes: 0,
    push(text) {
      if (decoder.error) return;
      const chars = carry ? carry + text : text;
      carry = "";
      if (padded) {
        if (/\S/.test(chars)) fail("Image data goes on after its padding");
        return;
      }
      // Native decoding does the checks and skips whitespace; it stops
      // before a group of four that is not complete yet (kept for later).
      const out = new Uint8Array(Math.ceil(chars.length * 3 / 4));
      let result: { read: number; written: number };
      try {
        result = out.setFromBase64(chars, {
          alphabet,
          lastChunkHandling: "stop-before-partial",
        });
      } catch (error) {
        // Google's answers use the standard alphabet; accept the URL one.
        if (
          alphabet === "base64" && /[-_]/.test(chars) && !/[+/]/.test(chars)
        ) {
          alphabet = "base64url";
          return decoder.push(chars);
        }
        return fail(error instanceof Error ? error.message : String(error));
      }
      carry = chars.slice(result.read);
      if (result.written > 0) {
        decoder.bytes += result.written;
        decoder.queue.push(out.subarray(0, result.written));
      }
      // An "=" that did not throw closed the data.
      if (chars.slice(0, result.read).includes("=")) padded = true;
    },
    end() {
      if (decoder.error) return;
      if (/\S/.test(carry)) {
        try {
          const bytes = Uint8Array.fromBase64(carry, { alphabet });
          decoder.bytes += bytes.length;
          if (bytes.length) decoder.queue.push(bytes);
        } catch (error) {
          fail(error instanceof Error ? error.message : String(error));
        }
      }
      carry = "";
      if (!decoder.error && decoder.bytes === 0) fail("Image data is empty");
    },
  };
  function fail(message: string) {
    decoder.error = new SyntaxError(message);
    decoder.queue.length = 0;
  }
  return decoder;
}
