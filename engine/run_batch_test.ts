/**
 * [run_batch] A run's bookkeeping, table-driven, with a scripted generator
 * (no process, no network): which items it hands out, what each event
 * writes, and where the batch ends for each way a run can end.
 */
import { plainRows } from "../core/batch_plan.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { openDb } from "../db/client.ts";
import { createBatch, listItems } from "../db/batch_queries.ts";
import type { Batch, ItemStatus } from "../core/records.ts";
import type { GeneratorEvent, Job } from "../core/protocol.ts";
import type { RunMode } from "../core/status.ts";
import { createLogger } from "../lib/log.ts";
import { runBatch, type RunUpdate } from "./run_batch.ts";
import type { GeneratorRun, SpawnOptions } from "./runner.ts";
import { SpawnGate } from "./spawn_gate.ts";
import { imageFileName, USAGE_JOURNAL_NAME } from "../core/files.ts";
import { costFromUsage } from "../core/cost.ts";

// A 1×1 PNG.
const ONE_PIXEL_PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

const KEY = "AQ.Ab8RN6LkRunBatchUnitKey0123456789abcdefghij";
const USAGE = {
  promptTokens: 10,
  outputTokens: 1130,
  imageTokens: 1120,
  thoughtTokens: 0,
};

/** What the scripted generator does with the job it is given. */
type Script = (job: Job, control: { abort(reason: string): void }) => {
  events: GeneratorEvent[];
  exitCode?: number;
};

function saved(itemId: string, position: number): GeneratorEvent {
  return {
    type: "image-saved",
    itemId,
    fileName: `${String(position + 1).padStart(4, "0")}-1.png`,
    mimeType: "image/png",
    bytes: 4,
    sha256: "c".repeat(64),
  };
}

function failed(itemId: string, kind: "server" | "blocked"): GeneratorEvent {
  return {
    type: "item-failed",
    itemId,
    kind,
    message: kind === "blocked"
      ? "Google blocked this image (IMAGE_SAFETY)"
      : `Google failed while holding ${KEY}`,
    retryable: kind === "server",
  };
}

interface Outcome {
  batch: Batch;
  statuses: ItemStatus[];
  jobs: Job[];
  spawnOptions: SpawnOptions[];
  updates: RunUpdate[];
  manifest: { batch: { status: string }; items: { status: string }[] };
  logs: string[];
}

/** Runs a 3-prompt batch (given earlier statuses) with `script`. */
async function run(
  script: Script,
  {
    before = ["pending", "pending", "pending"],
    mode = "resume",
    model = "gemini-nano-banana-2.1",
    spawnGate,
    onYield = () => {},
  }: {
    before?: ItemStatus[];
    mode?: RunMode;
    model?: string;
    spawnGate?: SpawnGate;
    /** Called before the scripted generator yields each event. */
    onYield?: () => void;
  } = {},
): Promise<Outcome> {
  const { db, close } = await openDb(":memory:");
  const imagesDir = await Deno.makeTempDir({ prefix: "batchgen-run-" });
  try {
    let batch = await createBatch(db, {
      workspaceId: "w",
      title: "t",
      model,
      settings: {
        aspectRatio: "1:1",
        imageSize: "1K",
        imagesPerPrompt: 1,
        concurrency: 2,
      },
      rows: plainRows(before.map((_, position) => `prompt ${position}`), {
        model,
        aspectRatio: "1:1",
        imageSize: "1K",
        imagesPerPrompt: 1,
      }),
      estimatedCostUsd: 0.1,
      priceListDate: "2026-11-27",
    });
    const { items } = await import("../db/schema.ts");
    const { eq } = await import("drizzle-orm");
    for (const [i, item] of (await listItems(db, batch.id)).entries()) {
      await db.update(items).set({ status: before[i]! }).where(
        eq(items.id, item.id),
      );
    }
    const jobs: Job[] = [];
    const spawnOptions: SpawnOptions[] = [];
    const controller = new AbortController();
    const logs: string[] = [];
    const spawn = (job: Job, options: SpawnOptions): GeneratorRun => {
      jobs.push(job);
      spawnOptions.push(options);
      let killed = false;
      options.signal?.addEventListener("abort", () => killed = true);
      const { events, exitCode = 0 } = script(job, {
        abort: (reason) => controller.abort(reason),
      });
      let exit = (_code: number) => {};
      const exited = new Promise<number>((resolve) => exit = resolve);
      return {
        pid: 1,
        events: (async function* () {
          for (const event of events) {
            if (killed) break;
            onYield();
            yield event;
            await Promise.resolve();
          }
          exit(killed ? 137 : exitCode);
        })(),
        exited,
        kill: () => {
          killed = true;
        },
      };
    };
    const updates: RunUpdate[] = [];
    batch = await runBatch({
      db,
      config: {
        dataDir: imagesDir,
        referencesDir: join(imagesDir, "references"),
        storage: { kind: "local" },
        imagesDir,
        geminiBaseUrl: "http://127.0.0.1:9",
        childEnv: {},
        requestTimeoutMs: 10_000,
        maxAttempts: 2,
      },
      log: createLogger((line) => logs.push(line)),
      spawn,
      spawnGate,
    }, {
      batch,
      apiKey: KEY,
      mode,
      signal: controller.signal,
      onUpdate: (update) => {
        updates.push(update);
      },
    });
    const manifest = JSON.parse(
      await Deno.readTextFile(join(imagesDir, batch.id, "manifest.json")),
    );
    const statuses = (await listItems(db, batch.id)).map((i) => i.status);
    return { batch, statuses, jobs, spawnOptions, updates, manifest, logs };
  } finally {
    close();
    await Deno.remove(imagesDir, { recursive: true });
  }
}

const ids = (job: Job) => job.items.map((i) => i.itemId);

Deno.test("[run_batch] each way a run ends leaves the batch and its items where the state machine says", async (t) => {
  const table: {
    name: string;
    script: Script;
    status: string;
    items: ItemStatus[];
    message: RegExp | null;
    counts: [number, number];
  }[] = [
    {
      name: "all saved",
      script: (job) => ({
        events: job.items.flatMap((item) => [
          { type: "item-started", itemId: item.itemId, attempt: 1 } as const,
          { type: "usage", itemId: item.itemId, ...USAGE } as const,
          saved(item.itemId, item.position),
        ]),
      }),
      status: "done",
      items: ["succeeded", "succeeded", "succeeded"],
      message: null,
      counts: [3, 0],
    },
    {
      name: "one failed, one blocked",
      script: (job) => ({
        events: [
          saved(ids(job)[0]!, 0),
          failed(ids(job)[1]!, "server"),
          failed(ids(job)[2]!, "blocked"),
        ],
      }),
      status: "partial",
      items: ["succeeded", "failed", "blocked"],
      message: null,
      counts: [1, 2],
    },
    {
      name: "the generator stops the batch (quota)",
      script: (job) => ({
        events: [
          saved(ids(job)[0]!, 0),
          { type: "item-started", itemId: ids(job)[1]!, attempt: 1 },
          {
            type: "batch-stopped",
            kind: "quota",
            message: "Google's quota for this key is used up.",
          },
        ],
      }),
      status: "interrupted",
      items: ["succeeded", "interrupted", "interrupted"],
      message: /quota for this key is used up/,
      counts: [1, 0],
    },
    {
      name: "Cancel mid-run",
      script: (job, control) => {
        const events: GeneratorEvent[] = [saved(ids(job)[0]!, 0)];
        // The user presses Cancel after the first image.
        queueMicrotask(() => control.abort("cancelled"));
        events.push(
          { type: "item-started", itemId: ids(job)[1]!, attempt: 1 },
          saved(ids(job)[1]!, 1),
          saved(ids(job)[2]!, 2),
        );
        return { events };
      },
      status: "cancelled",
      items: ["succeeded", "cancelled", "cancelled"],
      message: /^Cancelled\./,
      counts: [1, 0],
    },
    {
      name: "Cancel just after an image was saved, before its event was read",
      script: (job, control) => {
        // The file is in place; the kill comes before its `image-saved`.
        Deno.writeFileSync(
          join(job.outputDir, imageFileName(1, 0, "png")),
          Uint8Array.fromBase64(ONE_PIXEL_PNG),
        );
        queueMicrotask(() => control.abort("cancelled"));
        return {
          events: [
            saved(ids(job)[0]!, 0),
            { type: "item-started", itemId: ids(job)[1]!, attempt: 1 },
          ],
        };
      },
      status: "cancelled",
      items: ["succeeded", "succeeded", "cancelled"],
      message: /^Cancelled\./,
      counts: [2, 0],
    },
    {
      name: "the generator exits with an error",
      script: (job) => ({ events: [saved(ids(job)[0]!, 0)], exitCode: 1 }),
      status: "interrupted",
      items: ["succeeded", "interrupted", "interrupted"],
      message: /exited with code 1/,
      counts: [1, 0],
    },
  ];
  for (const c of table) {
    await t.step(c.name, async () => {
      const out = await run(c.script);
      assert.equal(out.batch.status, c.status);
      assert.deepEqual(out.statuses, c.items);
      if (c.message) assert.match(out.batch.statusMessage ?? "", c.message);
      else assert.equal(out.batch.statusMessage, null);
      assert.deepEqual(
        [out.batch.succeededCount, out.batch.failedCount],
        c.counts,
      );
      // Blocked apart, both live (each event's increments) and at the end.
      const blocked = c.items.filter((s) => s === "blocked").length;
      assert.equal(out.batch.blockedCount, blocked);
      const beforeEnd = out.updates.filter((u) => u.event.type !== "finished");
      assert.equal(beforeEnd.at(-1)?.batch.blockedCount ?? 0, blocked);
      // The manifest on disk says the same.
      assert.equal(out.manifest.batch.status, c.status);
      assert.deepEqual(out.manifest.items.map((i) => i.status), c.items);
      // The last update reports the end, with the items it left stopped.
      const last = out.updates.at(-1)!;
      assert.equal(last.event.type, "finished");
      assert.equal(last.batch.status, c.status);
      assert.equal(
        last.stoppedItems?.length ?? 0,
        c.items.filter((s) => s === "interrupted" || s === "cancelled").length,
      );
    });
  }
});

Deno.test("[run_batch] resume hands out only what is not done, retry also what failed or was blocked", async () => {
  const before: ItemStatus[] = ["succeeded", "failed", "blocked"];
  const resume = await run(() => ({ events: [] }), { before });
  assert.equal(resume.jobs.length, 0, "nothing to resume: no generator");
  assert.equal(resume.batch.status, "partial");

  const retry = await run(
    (job) => ({
      events: job.items.map((item) => saved(item.itemId, item.position)),
    }),
    { before, mode: "retry" },
  );
  assert.deepEqual(retry.jobs[0]!.items.map((i) => i.prompt), [
    "prompt 1",
    "prompt 2",
  ]);
  assert.equal(retry.batch.status, "done");
});

Deno.test("[run_batch] the job carries the batch's settings and never the key; the key goes only to spawn", async () => {
  const out = await run(() => ({ events: [] }), {
    model: "gemini-2.5-flash-image",
  });
  const job = out.jobs[0]!;
  assert.equal(job.model, "gemini-2.5-flash-image");
  assert.equal(job.imageSize, undefined, "a model without sizes gets none");
  assert.equal(job.concurrency, 2);
  assert.equal(job.maxAttempts, 2);
  assert.equal(JSON.stringify(job).includes(KEY.slice(3, 20)), false);
  assert.equal(out.spawnOptions[0]!.apiKey, KEY);
});

Deno.test("[run_batch] event messages are scrubbed before they are stored or reported", async () => {
  const out = await run((job) => ({
    events: [
      failed(ids(job)[0]!, "server"),
      saved(ids(job)[1]!, 1),
      saved(ids(job)[2]!, 2),
    ],
  }));
  const reported = JSON.stringify(out.updates);
  assert.equal(reported.includes(KEY.slice(10, 30)), false);
  assert.match(reported, /Google failed while holding \[REDACTED\]/);
  assert.equal(out.logs.join("\n").includes(KEY.slice(10, 30)), false);
});

Deno.test("[run_batch] events for items of another batch change nothing", async () => {
  const out = await run((job) => ({
    events: [
      saved("not-an-item-of-this-batch", 0),
      ...job.items.map((item) => saved(item.itemId, item.position)),
    ],
  }));
  assert.equal(out.batch.succeededCount, 3);
  assert.equal(out.batch.status, "done");
});

Deno.test("[run_batch] a run holds its start slot until its generator's first event, and gives it back however it ends", async () => {
  const gate = new SpawnGate(1);
  const held: number[] = [];
  const out = await run((job) => {
    held.push(gate.starting);
    return { events: job.items.map((item) => saved(item.itemId, 0)) };
  }, { spawnGate: gate, onYield: () => held.push(gate.starting) });
  assert.equal(out.batch.status, "done");
  // Held at spawn and at the first event; given back once it arrived.
  assert.deepEqual(held, [1, 1, 0, 0]);
  assert.equal(gate.starting, 0);

  // A generator that exits without a word gives its slot back too.
  await run(() => ({ events: [], exitCode: 1 }), { spawnGate: gate });
  assert.equal(gate.starting, 0);

  // So does a spawn that throws.
  await assert.rejects(
    run(() => {
      throw new Error("spawn failed");
    }, { spawnGate: gate }),
    /spawn failed/,
  );
  assert.equal(gate.starting, 0);
  assert.equal(gate.waiting, 0);
});

Deno.test("[run_batch] an image adopted at a run's end is priced from the generator's usage journal", async () => {
  const journal: string[] = [];
  let cancel = () => {};
  let yielded = 0;
  const outcome = await run((job, control) => {
    cancel = () => control.abort("cancelled");
    const [first, second] = ids(job);
    Deno.writeFileSync(
      join(job.outputDir, imageFileName(1, 0, "png")),
      Uint8Array.fromBase64(ONE_PIXEL_PNG),
    );
    const usage = (itemId: string, imageTokens: number) =>
      JSON.stringify({
        type: "usage",
        itemId,
        promptTokens: 10,
        outputTokens: imageTokens,
        imageTokens,
        thoughtTokens: 0,
      }) + "\n";
    // The first item's usage reached the server as an event too: it must
    // not count twice. The second's is only in the journal.
    journal.push(join(job.outputDir, USAGE_JOURNAL_NAME));
    Deno.writeTextFileSync(
      journal[0]!,
      usage(first!, 1290) + usage(second!, 1290) + '{"type":"usa',
    );
    return {
      events: [
        {
          type: "usage",
          itemId: first!,
          promptTokens: 10,
          outputTokens: 1290,
          imageTokens: 1290,
          thoughtTokens: 0,
        },
        saved(first!, 0),
        { type: "item-started", itemId: second!, attempt: 1 },
      ],
    };
  }, {
    // Cancel once the first image's events went through.
    onYield: () => {
      if (++yielded === 3) cancel();
    },
  });
  assert.deepEqual(outcome.statuses, ["succeeded", "succeeded", "cancelled"]);
  const one = costFromUsage("gemini-nano-banana-2.1", {
    promptTokens: 10,
    outputTokens: 1290,
    imageTokens: 1290,
    thoughtTokens: 0,
  })!;
  assert.ok(one > 0);
  assert.equal(
    outcome.batch.actualCostUsd.toFixed(6),
    (2 * one).toFixed(6),
    "both images priced once each",
  );
  assert.equal(
    outcome.updates.filter((u) => u.event.type === "usage").length,
    1,
    "one usage event reached the server",
  );
  assert.throws(() => Deno.statSync(journal[0]!), Deno.errors.NotFound);
});
