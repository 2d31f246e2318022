import assert from "node:assert/strict";
import { parseBatchInput } from "./batch_input.ts";

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
