import assert from "node:assert/strict";
import { keyLines, parseBatchInput, withoutKeyLines } from "./batch_input.ts";

const base = { model: "gemini-nano-banana-2.1", prompts: ["a fox"] };

Deno.test("parseBatchInput() refuses an API key pasted as a prompt or title, and says where it belongs", () => {
  for (
    const input of [
      {
        ...base,
        prompts: ["a fox", "AIzaSyCanaryKey0123456789abcdefghijklmn"],
      },
      {
        ...base,
        prompts: ["use AQ.Ab8RN6LkTestKeyCanary0123456789abcdefghij please"],
      },
      { ...base, title: "AIzaSyCanaryKey0123456789abcdefghijklmn" },
    ]
  ) {
    const parsed = parseBatchInput(input);
    assert.equal(parsed.ok, false);
    const message = Object.values(parsed.ok ? {} : parsed.problem.fields ?? {})
      .join(" ");
    assert.match(message, /looks like an API key/);
    assert.doesNotMatch(message, /Canary/, "the message does not repeat it");
  }
  assert.equal(
    parseBatchInput({ ...base, prompts: ["FAQ.html page mock-up"] }).ok,
    true,
  );
});

Deno.test("keyLines() finds a key on one line or wrapped over two; withoutKeyLines() drops them", () => {
  const key = "AIzaSyCanaryKey0123456789abcdefghijklmn";
  assert.deepEqual(keyLines(["a fox", key, "a wren"]), [1]);
  assert.deepEqual(
    keyLines(["a fox", key.slice(0, 20), key.slice(20), "a wren"]),
    [1, 2],
  );
  assert.deepEqual(keyLines(["a fox", "FAQ.html page", "a wren"]), []);
  assert.equal(
    withoutKeyLines(`a fox\r\n  ${key.slice(0, 12)}\n${key.slice(12)}\na wren`),
    "a fox\na wren",
  );
});
