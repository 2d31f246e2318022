import assert from "node:assert/strict";
import { parseEntryArgs, USAGE } from "./main.ts";
import { GENERATOR_MODE } from "./engine/runner.ts";

Deno.test("parseEntryArgs() serves by default and on `serve`", () => {
  assert.deepEqual(parseEntryArgs([]), { kind: "serve" });
  assert.deepEqual(parseEntryArgs(["serve"]), { kind: "serve" });
  assert.deepEqual(parseEntryArgs(["serve", "--help"]), { kind: "help" });
});

Deno.test("parseEntryArgs() hands every argument after `generate` to the CLI", () => {
  assert.deepEqual(parseEntryArgs(["generate"]), {
    kind: "generate",
    args: [],
  });
  assert.deepEqual(
    parseEntryArgs(["generate", "--prompts", "p.txt", "--help"]),
    { kind: "generate", args: ["--prompts", "p.txt", "--help"] },
  );
});

Deno.test("parseEntryArgs() reads the internal generator mode alone", () => {
  assert.deepEqual(parseEntryArgs([GENERATOR_MODE]), { kind: "generator" });
  assert.equal(parseEntryArgs([GENERATOR_MODE, "--job", "-"]).kind, "error");
});

Deno.test("parseEntryArgs() answers help and refuses the rest", () => {
  for (const help of ["help", "-h", "--help"]) {
    assert.deepEqual(parseEntryArgs([help]), { kind: "help" });
  }
  assert.deepEqual(parseEntryArgs(["server"]), {
    kind: "error",
    message: 'Unknown command "server"',
  });
  assert.deepEqual(parseEntryArgs(["serve", "--port", "80"]).kind, "error");
  // Not a command word: not echoed (it could be a pasted key).
  assert.deepEqual(
    parseEntryArgs(["AQ.Ab8RN6LkNotAKey0123456789abcdefghijKLMN"]),
    {
      kind: "error",
      message: "Unknown command",
    },
  );
});

Deno.test("USAGE lists the public commands, not the internal mode", () => {
  assert.match(USAGE, /^ {2}serve /m);
  assert.match(USAGE, /^ {2}generate /m);
  assert.ok(!USAGE.includes(GENERATOR_MODE));
});
