/**
 * The real generator child process against the fake Gemini server: events on
 * stdout, files on disk, and no key in any output (K4, K5).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeEvent, type GeneratorEvent, type Job } from "./protocol.ts";
import { sha256Hex } from "../lib/storage.ts";
import { startFakeGemini } from "../tests/fake_gemini.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const GOOD_KEY = "AQ.Ab8RN6Lq-main-test-key-7f3c9e2d41b6a5";
const BAD_KEY = "bad-key-zq8Wm3Xr5Tn1Vb7Kc9Lp2Hs4";

interface ChildResult {
  code: number;
  stdout: string;
  stderr: string;
  events: GeneratorEvent[];
}

function childEnv(
  key: string | undefined,
  baseUrl: string,
): Record<string, string> {
  const env: Record<string, string> = {
    GEMINI_BASE_URL: baseUrl,
    PATH: Deno.env.get("PATH") ?? "",
    HOME: Deno.env.get("HOME") ?? "",
    NO_COLOR: "1",
  };
  const denoDir = Deno.env.get("DENO_DIR");
  if (denoDir) env.DENO_DIR = denoDir;
  if (key !== undefined) env.GEMINI_API_KEY = key;
  return env;
}

function spawn(args: string[], env: Record<string, string>) {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "generator/main.ts",
      ...args,
    ],
    cwd: ROOT,
    clearEnv: true,
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function runChild(
  input: string,
  env: Record<string, string>,
  args: string[] = [],
): Promise<ChildResult> {
  const child = spawn(args, env);
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const output = await child.output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  // Only the child mode speaks the protocol on stdout.
  const events = args.length > 0
    ? []
    : stdout.split("\n").filter((l) => l.trim()).map(decodeEvent);
  return { code: output.code, stdout, stderr, events };
}

function makeJob(
  outputDir: string,
  prompts: string[],
  extra: Partial<Job> = {},
): Job {
  return {
    batchId: "batch-1",
    model: "gemini-3.1-flash-lite-image",
    aspectRatio: "1:1",
    imageSize: "1K",
    concurrency: 3,
    outputDir,
    timeoutMs: 20_000,
    maxAttempts: 3,
    items: prompts.map((prompt, position) => ({
      itemId: `item-${position}`,
      position,
      imageIndex: 0,
      prompt,
    })),
    ...extra,
  };
}

function assertNoKey(key: string, ...texts: string[]) {
  for (const text of texts) {
    for (let i = 0; i + 8 <= key.length; i++) {
      assert.equal(
        text.includes(key.slice(i, i + 8)),
        false,
        "key fragment in output",
      );
    }
  }
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

Deno.test("[child] generates, blocks and retries against the fake", async () => {
  await using fake = startFakeGemini();
  const dir = await Deno.makeTempDir();
  try {
    const job = makeJob(join(dir, "out"), [
      "a red fox",
      "a fox [block:IMAGE_SAFETY]",
      "a blue fox [fail-once:503]",
      "a chatty fox [text-only]",
    ]);
    const result = await runChild(
      JSON.stringify(job),
      childEnv(GOOD_KEY, fake.url),
    );
    assert.equal(result.code, 0, result.stderr);
    const byItem = (id: string) =>
      result.events.filter((e) => "itemId" in e && e.itemId === id);
    const savedFor = (id: string) =>
      byItem(id).find((e) => e.type === "image-saved") as
        | Extract<GeneratorEvent, { type: "image-saved" }>
        | undefined;

    assert.deepEqual(result.events[0], { type: "started", items: 4 });
    assert.deepEqual(result.events.at(-1), {
      type: "done",
      succeeded: 2,
      failed: 2,
    });

    const first = savedFor("item-0");
    assert.ok(first, "first item saved");
    assert.match(first.fileName, /^0001-1\.(png|jpg|webp)$/);
    const bytes = await Deno.readFile(join(job.outputDir, first.fileName));
    assert.equal(first.bytes, bytes.length);
    assert.equal(first.sha256, await sha256Hex(bytes));
    assert.ok(first.width && first.height, "dimensions read");
    assert.ok(byItem("item-0").some((e) => e.type === "usage"));

    const blocked = byItem("item-1").find((e) => e.type === "item-failed");
    assert.equal(blocked?.type === "item-failed" && blocked.kind, "blocked");
    assert.match(
      blocked?.type === "item-failed" ? blocked.message : "",
      /IMAGE_SAFETY/,
    );
    assert.equal(
      byItem("item-1").filter((e) => e.type === "item-started").length,
      1,
    );

    const retried = byItem("item-2").filter((e) => e.type === "item-started");
    assert.deepEqual(
      retried.map((e) => e.type === "item-started" && e.attempt),
      [1, 2],
    );
    assert.ok(savedFor("item-2"), "retried item saved");

    const noImage = byItem("item-3").find((e) => e.type === "item-failed");
    assert.equal(noImage?.type === "item-failed" && noImage.kind, "no-image");

    assert.deepEqual(
      (await listDir(job.outputDir)).filter((n) => n.startsWith(".")),
      [],
      "no temp files",
    );
    for (const request of fake.requests) {
      assert.equal(request.headers["x-goog-api-key"], GOOD_KEY);
      assert.equal(JSON.stringify(request.query).includes("key"), false);
      assert.match(request.path, /^\/v1beta\//);
    }
    assertNoKey(GOOD_KEY, result.stdout, result.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[child] an invalid key stops the batch and is never echoed", async () => {
  await using fake = startFakeGemini();
  const dir = await Deno.makeTempDir();
  try {
    const job = makeJob(dir, ["one", "two", "three", "four", "five"], {
      concurrency: 2,
    });
    const result = await runChild(
      JSON.stringify(job),
      childEnv(BAD_KEY, fake.url),
    );
    assert.equal(result.code, 0, result.stderr);
    const stops = result.events.filter((e) => e.type === "batch-stopped");
    assert.equal(stops.length, 1);
    assert.equal(stops[0]?.type === "batch-stopped" && stops[0].kind, "auth");
    assert.match(
      stops[0]?.type === "batch-stopped" ? stops[0].message : "",
      /Check the key/,
    );
    assert.equal(
      result.events.filter((e) => e.type === "item-failed").length,
      0,
    );
    assert.deepEqual(result.events.at(-1), {
      type: "done",
      succeeded: 0,
      failed: 0,
    });
    assert.ok(fake.stats().generate <= 2, "nothing new started after the stop");
    assertNoKey(BAD_KEY, result.stdout, result.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[child] refuses to run without a key or with a bad job", async () => {
  const noKey = await runChild("{}", childEnv(undefined, "http://127.0.0.1:9"));
  assert.equal(noKey.code, 2);
  assert.match(noKey.stderr, /GEMINI_API_KEY is not set/);
  assert.equal(noKey.stdout, "");

  const notJson = await runChild(
    "{nope",
    childEnv(GOOD_KEY, "http://127.0.0.1:9"),
  );
  assert.equal(notJson.code, 2);
  assert.match(notJson.stderr, /not valid JSON/);

  const invalid = await runChild(
    JSON.stringify({ batchId: "b", items: [] }),
    childEnv(GOOD_KEY, "http://127.0.0.1:9"),
  );
  assert.equal(invalid.code, 2);
  assert.match(invalid.stderr, /invalid job: .*model/);
  assertNoKey(GOOD_KEY, noKey.stderr, notJson.stderr, invalid.stderr);
});

Deno.test("[child] exits promptly on SIGTERM and leaves no temp files", async () => {
  await using fake = startFakeGemini();
  const dir = await Deno.makeTempDir();
  try {
    const job = makeJob(dir, ["slow [slow:30000]", "slow too [slow:30000]"]);
    const child = spawn([], childEnv(GOOD_KEY, fake.url));
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify(job)));
    await writer.close();
    // Wait until both requests reached the fake, then ask the child to stop.
    for (let i = 0; i < 200 && fake.stats().generate < 2; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    const asked = performance.now();
    child.kill("SIGTERM");
    const output = await child.output();
    assert.ok(performance.now() - asked < 3_000, "exited promptly");
    assert.equal(output.code, 143);
    const events = new TextDecoder().decode(output.stdout).split("\n").filter(
      Boolean,
    )
      .map(decodeEvent);
    assert.equal(events.some((e) => e.type === "done"), false);
    assert.deepEqual(await listDir(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[cli] writes images and a key-free manifest", async () => {
  await using fake = startFakeGemini();
  const dir = await Deno.makeTempDir();
  try {
    const prompts = join(dir, "prompts.txt");
    await Deno.writeTextFile(
      prompts,
      "# my prompts\na lighthouse\n\na fox [block:IMAGE_SAFETY]\n",
    );
    const out = join(dir, "out");
    const args = [
      "--prompts",
      prompts,
      "--out",
      out,
      "--model",
      "gemini-3.1-flash-lite-image",
      "--images-per-prompt",
      "2",
      "--concurrency",
      "2",
    ];
    const result = await runChild("", childEnv(GOOD_KEY, fake.url), args);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /\[\d\/4\] saved 0001-1\.\w+/);
    assert.match(result.stderr, /0002-1 failed \(blocked\)/);
    const text = await Deno.readTextFile(join(out, "manifest.json"));
    const manifest = JSON.parse(text);
    assert.equal(manifest.generator, "BatchGen CLI");
    assert.equal(manifest.model, "gemini-3.1-flash-lite-image");
    assert.deepEqual(manifest.settings, {
      aspectRatio: "1:1",
      imageSize: "1K",
      imagesPerPrompt: 2,
      concurrency: 2,
    });
    assert.deepEqual(manifest.counts, { succeeded: 2, failed: 2 });
    assert.deepEqual(
      manifest.items.map((i: { status: string }) => i.status),
      ["succeeded", "succeeded", "blocked", "blocked"],
    );
    assert.equal(
      manifest.items[0].file,
      (await listDir(out)).find((n) => n.startsWith("0001-1")),
    );
    assert.match(manifest.items[0].sha256, /^[0-9a-f]{64}$/);
    assertNoKey(GOOD_KEY, text, result.stdout, result.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("[cli] rejects bad usage with exit code 2", async () => {
  const env = childEnv(GOOD_KEY, "http://127.0.0.1:9");
  const badModel = await runChild("", env, [
    "--prompts",
    "p.txt",
    "--out",
    "o",
    "--model",
    "imagen-4",
  ]);
  assert.equal(badModel.code, 2);
  assert.match(badModel.stderr, /Unknown model "imagen-4"/);
  const badSize = await runChild("", env, [
    "--prompts",
    "p.txt",
    "--out",
    "o",
    "--model",
    "gemini-3.1-flash-lite-image",
    "--size",
    "4K",
  ]);
  assert.equal(badSize.code, 2);
  assert.match(badSize.stderr, /Size "4K" is not offered/);
  const help = await runChild("", env, ["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--prompts FILE/);
});
