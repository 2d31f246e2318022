/** The zod-free checks agree with core/protocol.ts's schemas. */
import assert from "node:assert/strict";
import {
  eventSchema,
  FAILURE_KINDS,
  type GeneratorEvent,
  jobSchema,
} from "./protocol.ts";
import { checkEvent, checkJob } from "./protocol_check.ts";

const SHA = "a".repeat(64);
const base = {
  batchId: "b",
  model: "m",
  aspectRatio: "1:1",
  concurrency: 2,
  outputDir: "/tmp/x",
  items: [{ itemId: "i", position: 0, imageIndex: 0, prompt: "p" }],
};

Deno.test("checkJob() accepts and refuses what jobSchema does, with its defaults", () => {
  const jobs: unknown[] = [
    base,
    { ...base, extra: 1, imageSize: "1K", timeoutMs: 30_000, maxAttempts: 2 },
    { ...base, apiBaseUrl: "http://127.0.0.1:9" },
    { ...base, apiBaseUrl: "http://example.com" },
    { ...base, budgetUsd: 1.5, spentUsd: 0 },
    { ...base, lockPath: "/tmp/locks/b1.lock" },
    { ...base, budgetUsd: -1 },
    { ...base, concurrency: 0 },
    { ...base, concurrency: 1.5 },
    { ...base, batchId: "" },
    { ...base, imageSize: "" },
    { ...base, timeoutMs: 1 },
    {
      ...base,
      references: [{ sha256: SHA, mimeType: "image/png", path: "/r" }],
    },
    {
      ...base,
      references: [{ sha256: SHA, mimeType: "image/gif", path: "/r" }],
    },
    {
      ...base,
      items: [{
        itemId: "i",
        position: 1,
        imageIndex: 2,
        prompt: "p",
        model: "x",
        imageSize: "",
        references: [SHA],
        junk: true,
      }],
    },
    {
      ...base,
      items: [{ itemId: "i", position: -1, imageIndex: 0, prompt: "p" }],
    },
    {
      ...base,
      items: [{ itemId: "i", position: 0, imageIndex: 0, prompt: "" }],
    },
    { ...base, items: [{ ...base.items[0], references: ["nothex"] }] },
    { ...base, items: "no" },
    null,
    [],
    "job",
  ];
  for (const raw of jobs) {
    const zod = jobSchema.safeParse(raw);
    const lean = checkJob(raw);
    assert.equal(lean.ok, zod.success, JSON.stringify(raw));
    if (lean.ok && zod.success) assert.deepEqual(lean.job, zod.data);
  }
});

Deno.test("checkEvent() gives what eventSchema.parse does, and refuses what it refuses", () => {
  const good: GeneratorEvent[] = [
    { type: "started", items: 3 },
    { type: "item-started", itemId: "i", attempt: 1 },
    {
      type: "image-saved",
      itemId: "i",
      fileName: "0001-1.png",
      mimeType: "image/png",
      bytes: 10,
      sha256: SHA,
      width: 1,
      height: 2,
    },
    {
      type: "image-saved",
      itemId: "i",
      fileName: "0002-1.jpg",
      mimeType: "image/jpeg",
      bytes: 10,
      sha256: SHA,
    },
    ...FAILURE_KINDS.map((kind): GeneratorEvent => ({
      type: "item-failed",
      itemId: "i",
      kind,
      message: "m",
      retryable: false,
    })),
    {
      type: "usage",
      itemId: "i",
      promptTokens: 1,
      outputTokens: 2,
      imageTokens: 3,
      thoughtTokens: 0,
    },
    { type: "rate-limited", retryAfterMs: 0 },
    {
      type: "rate-limited",
      retryAfterMs: 250,
      quotaLimit: 4,
      quotaWindowMs: 1000,
    },
    { type: "token-request" },
    { type: "batch-stopped", kind: "budget", message: "m" },
    { type: "done", succeeded: 1, failed: 0 },
  ];
  for (const event of good) {
    assert.deepEqual(checkEvent(event), eventSchema.parse(event));
  }
  const bad = [
    { type: "started", items: 1.5 },
    { type: "item-started", itemId: "i", attempt: 0 },
    { ...good[2], fileName: "../x.png" },
    { ...good[2], mimeType: "image/gif" },
    { ...good[2], sha256: "x" },
    {
      type: "item-failed",
      itemId: "i",
      kind: "oops",
      message: "",
      retryable: false,
    },
    {
      type: "usage",
      itemId: "i",
      promptTokens: -1,
      outputTokens: 0,
      imageTokens: 0,
      thoughtTokens: 0,
    },
    { type: "rate-limited", retryAfterMs: -5 },
    { type: "nope" },
  ] as unknown as GeneratorEvent[];
  for (const event of bad) {
    assert.throws(() => eventSchema.parse(event));
    assert.throws(() => checkEvent(event), TypeError, JSON.stringify(event));
  }
});
