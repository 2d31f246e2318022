/**
 * Line splitting for a streamed JSONL results file (batch_results.ts): a
 * results file can be gigabytes of base64 images, so it is never held whole;
 * at most one line is, and a line past its bound is dropped as it streams by
 * rather than kept.
 */

/**
 * The lines of `text`, without "\n" or "\r\n". A line longer than
 * `maxChars` comes out as `null`: its characters were never kept. A last
 * line without a newline is still a line; an empty rest is not.
 */
export async function* splitLines(
  text: AsyncIterable<string>,
  maxChars: number,
): AsyncGenerator<string | null> {
  let parts: string[] = [];
  let size = 0;
  let tooLong = false;
  const take = (piece: string) => {
    if (tooLong || piece.length === 0) return;
    size += piece.length;
    if (size > maxChars) {
      tooLong = true;
      parts = [];
    } else {
      parts.push(piece);
    }
  };
  const end = (): string | null => {
    const line = tooLong ? null : parts.join("").replace(/\r$/, "");
    parts = [];
    size = 0;
    tooLong = false;
    return line;
  };
  for await (const chunk of text) {
    let start = 0;
    // Only the new chunk is searched, so a long line costs linear time.
    for (
      let newline = chunk.indexOf("\n");
      newline >= 0;
      newline = chunk.indexOf("\n", start)
    ) {
      take(chunk.slice(start, newline));
      start = newline + 1;
      yield end();
    }
    take(chunk.slice(start));
  }
  if (size > 0 || tooLong) yield end();
}
