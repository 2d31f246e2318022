/** [log] The one logger: text (unchanged) and JSON lines, request ids, scrubbing. */
import assert from "node:assert/strict";
import {
  createLogger,
  currentRequestId,
  type LogFormat,
  withRequestId,
} from "./log.ts";

const KEY = "AQ.Ab8RN6LkTestKeyCanary0123456789abcdefghijKLMNOPqrs";
/** Not key-shaped: only the per-secret scrubbing finds it. */
const SECRET = "plain-secret-Zq7Xv93KpWm2Rt8Yh4Nc";

function collector(format?: LogFormat) {
  const lines: string[] = [];
  const log = createLogger(
    (line) => lines.push(line),
    [],
    format ? { format } : {},
  );
  return { lines, log };
}

Deno.test("[log] text, the default: the line is as it always was, without a request id", async () => {
  const { lines, log } = collector();
  await withRequestId("req-1", async () => {
    await Promise.resolve();
    log.info("run started", { batchId: "b1", items: 3 });
  });
  assert.equal(lines.length, 1);
  const entry = JSON.parse(lines[0]!);
  assert.deepEqual(Object.keys(entry), [
    "time",
    "level",
    "message",
    "batchId",
    "items",
  ]);
  assert.deepEqual(
    { ...entry, time: "" },
    {
      time: "",
      level: "info",
      message: "run started",
      batchId: "b1",
      items: 3,
    },
  );
  assert.equal(
    lines[0],
    JSON.stringify({
      time: entry.time,
      level: "info",
      message: "run started",
      batchId: "b1",
      items: 3,
    }),
  );
});

Deno.test("[log] json: one object per line, time/level/message first, the request id of the work in scope", async () => {
  const { lines, log } = collector("json");
  log.info("outside");
  await withRequestId("req-abc", async () => {
    log.warn("first");
    await new Promise((resolve) => setTimeout(resolve, 5));
    log.error("after a timer", { message: "a field named message", n: 1 });
    // Work started inside the scope keeps it after the scope's function
    // returned (a run stream outlives its handler).
    queueMicrotask(() => log.debug("later"));
  });
  await new Promise((resolve) => setTimeout(resolve, 5));
  await Promise.all([
    withRequestId("req-A", async () => {
      await new Promise((resolve) => setTimeout(resolve, 3));
      log.info("A");
    }),
    withRequestId("req-B", async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      log.info("B");
    }),
  ]);
  assert.equal(currentRequestId(), undefined);
  const entries = lines.map((line) => JSON.parse(line));
  assert.deepEqual(
    entries.map((e) => [e.level, e.message, e.requestId]),
    [
      ["info", "outside", undefined],
      ["warn", "first", "req-abc"],
      ["error", "after a timer", "req-abc"],
      ["debug", "later", "req-abc"],
      ["info", "B", "req-B"],
      ["info", "A", "req-A"],
    ],
  );
  assert.ok(!("requestId" in entries[0]!), "no request: no requestId key");
  assert.deepEqual(Object.keys(entries[2]!), [
    "time",
    "level",
    "message",
    "requestId",
    "field.message",
    "n",
  ]);
  assert.equal(entries[2]["field.message"], "a field named message");
  for (const entry of entries) assert.ok(!Number.isNaN(Date.parse(entry.time)));
  for (const line of lines) assert.ok(!line.includes("\n"));
});

Deno.test("[log] json: messages and fields are scrubbed, key-shaped or the request's secret, and lines stay JSON", () => {
  const { lines, log } = collector("json");
  const withKey = log.withSecrets([SECRET]);
  withKey.error(`failed with ${KEY}`, {
    error: `Google said: key=${SECRET} was bad`,
    nested: { deep: [SECRET, `"quoted \\ ${KEY}"`] },
    multiline: `line one\n${SECRET.slice(0, 12)}\nline three`,
  });
  log.info(`a key on its own: ${KEY}`);
  // The derived logger keeps the format; a format change keeps the secrets.
  withKey.withFormat("json").warn(SECRET);
  assert.equal(lines.length, 3);
  for (const line of lines) {
    const entry = JSON.parse(line);
    assert.equal(typeof entry.message, "string");
    for (const secret of [KEY, SECRET, SECRET.slice(0, 12), SECRET.slice(-8)]) {
      assert.ok(!line.includes(secret), `${secret} in ${line}`);
    }
    assert.match(line, /REDACTED/);
  }
});

Deno.test("[log] withFormat: same sink, other format; text lines from a json logger's parent stay text", async () => {
  const lines: string[] = [];
  const text = createLogger((line) => lines.push(line));
  const json = text.withFormat("json");
  await withRequestId("r-1", () => {
    text.info("t");
    json.info("j");
  });
  const [t, j] = lines.map((line) => JSON.parse(line));
  assert.equal(t.requestId, undefined);
  assert.equal(j.requestId, "r-1");
});
