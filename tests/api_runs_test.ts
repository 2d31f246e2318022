/** [api] Runs through the JSON API: images, manifest, ZIP, key errors, conflicts, delete. */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  createBatchViaApi,
  readNdjson,
  startTestApp,
  TEST_KEY,
  type TestApp,
} from "./_helpers.ts";
import { countRows, expectHtml, expectJson } from "./_html.ts";

const PRO = "gemini-3-pro-image";

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

async function unzip(args: string[]): Promise<Uint8Array> {
  const output = await new Deno.Command("unzip", { args, stderr: "piped" })
    .output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  return output.stdout;
}

async function runToEnd(t: TestApp, id: string, cookie: string) {
  const run = await t.request(`/api/batches/${id}/run`, {
    method: "POST",
    headers: { cookie, "x-goog-api-key": TEST_KEY },
  });
  assert.equal(run.status, 200);
  assert.match(run.headers.get("content-type") ?? "", /application\/x-ndjson/);
  return await readNdjson(run);
}

Deno.test("[api] after a run: items with image URLs, manifest.json and a ZIP with every image", async () => {
  await using t = await startTestApp();
  const { id, cookie } = await createBatchViaApi(t, {
    prompts: ["a red fox", "a shy owl [block:IMAGE_SAFETY]", "a calm sea"],
    model: PRO,
    aspectRatio: "3:2",
    imagesPerPrompt: 2,
  });
  const events = await runToEnd(t, id, cookie);
  const last = events.at(-1) as { type: string; batch: { status: string } };
  assert.equal(last.type, "batch");
  assert.equal(last.batch.status, "partial");

  const record = await expectJson(
    await t.request(`/api/batches/${id}`, { headers: { cookie } }),
    200,
  );
  // Both images of the blocked prompt: failed, and of those, blocked.
  assert.deepEqual(record.counts, {
    items: 6,
    succeeded: 4,
    failed: 2,
    blocked: 2,
  });
  assert.deepEqual(
    record.items.map((i: { position: number; imageIndex: number }) =>
      `${i.position}.${i.imageIndex}`
    ),
    ["0.0", "0.1", "1.0", "1.1", "2.0", "2.1"],
  );
  const images = new Map<string, Uint8Array<ArrayBuffer>>();
  for (const item of record.items) {
    if (item.prompt.includes("[block")) {
      assert.equal(item.status, "blocked");
      assert.equal(item.image, null);
      continue;
    }
    assert.equal(item.status, "succeeded");
    assert.match(item.image.url, new RegExp(`^/images/${id}/[\\w-]+\\.png$`));
    const response = await t.request(item.image.url, { headers: { cookie } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "image/png");
    const bytes = new Uint8Array(await response.arrayBuffer());
    assert.equal(bytes.length, item.image.bytes);
    assert.equal(await sha256(bytes), item.image.sha256);
    images.set(item.image.file, bytes);
  }
  assert.equal(images.size, 4);

  const manifest = await expectJson(
    await t.request(`/api/batches/${id}/manifest.json`, {
      headers: { cookie },
    }),
    200,
  );
  assert.equal(manifest.batch.id, id);
  assert.equal(manifest.items.length, 6);
  assert.match(manifest.batch.cost.label, /not a BatchGen charge/);

  const zip = await t.request(`/api/batches/${id}/download.zip`, {
    headers: { cookie },
  });
  assert.equal(zip.status, 200);
  assert.equal(zip.headers.get("content-type"), "application/zip");
  assert.match(
    zip.headers.get("content-disposition") ?? "",
    new RegExp(`attachment; filename="batchgen-${id}\\.zip"`),
  );
  const zipPath = join(t.dataDir, "download.zip");
  await Deno.writeFile(zipPath, new Uint8Array(await zip.arrayBuffer()));
  const listing = new TextDecoder().decode(await unzip(["-Z1", zipPath]));
  assert.deepEqual(
    listing.trim().split("\n").sort(),
    ["manifest.json", ...images.keys()].sort(),
  );
  const zipped = JSON.parse(
    new TextDecoder().decode(await unzip(["-p", zipPath, "manifest.json"])),
  );
  assert.deepEqual(zipped.items, manifest.items);
  for (const entry of zipped.items.filter((i: { file: unknown }) => i.file)) {
    const bytes = await unzip(["-p", zipPath, entry.file]);
    assert.equal(bytes.length, entry.bytes, entry.file);
    assert.equal(
      await sha256(bytes as Uint8Array<ArrayBuffer>),
      entry.sha256,
      entry.file,
    );
    assert.deepEqual(bytes, images.get(entry.file));
  }

  const page = await t.request(`/batches/${id}/download.zip`, {
    headers: { cookie },
  });
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-type"), "application/zip");
  await page.arrayBuffer();
});

Deno.test("[api] run without a key → 400 missing_key; a malformed key → 400 that never echoes it", async () => {
  await using t = await startTestApp();
  const { id, cookie } = await createBatchViaApi(t, {
    prompts: ["a cat"],
    model: PRO,
  });
  const missing = await expectJson(
    await t.request(`/api/batches/${id}/run`, {
      method: "POST",
      headers: { cookie },
    }),
    400,
  );
  assert.equal(missing.error.code, "missing_key");
  assert.match(missing.error.message, /x-goog-api-key/);

  const secret = "AQ.Zq9SecretPart0123456789abcdefghij";
  for (
    const bad of [
      `${secret}\x01tail`,
      `AQ.Zq9\tSecretPart0123456789abc`,
      `${secret}\x7f`,
    ]
  ) {
    const response = await t.request(`/api/batches/${id}/run`, {
      method: "POST",
      headers: { cookie, "x-goog-api-key": bad },
    });
    const raw = await response.clone().text();
    const body = await expectJson(response, 400);
    assert.equal(body.error.code, "missing_key");
    assert.match(
      body.error.message,
      /spaces, line breaks or control characters/,
    );
    assert.ok(!raw.includes("Zq9"), "the key is not echoed");
    assert.ok(!raw.includes("SecretPart"), "the key is not echoed");
  }
  // A header cannot hold a newline; the page's form field can.
  const form = await t.request(`/batches/${id}/run`, {
    method: "POST",
    headers: { cookie },
    body: new URLSearchParams({ apiKey: `AQ.Zq9Secret\nPart0123456789abcdef` }),
  });
  const { html } = await expectHtml(form, 400);
  assert.match(html, /line breaks or control characters/);
  assert.ok(!html.includes("Zq9") && !html.includes("Part0123"));
  assert.equal(t.fake.requests.length, 0, "Google was never called");
  assert.equal(await countRows(t, "items", "status = 'pending'"), 1);
});

Deno.test("[api] run of a running batch → 409; cancel of a batch not running → 409", async () => {
  await using t = await startTestApp();
  const { id, cookie } = await createBatchViaApi(t, {
    prompts: ["a slow snail [slow:20000]"],
    model: PRO,
  });
  const idle = await expectJson(
    await t.request(`/api/batches/${id}/cancel`, {
      method: "POST",
      headers: { cookie },
    }),
    409,
  );
  assert.equal(idle.cancelled, false);

  const first = await t.request(`/api/batches/${id}/run`, {
    method: "POST",
    headers: { cookie, "x-goog-api-key": TEST_KEY },
  });
  assert.equal(first.status, 200);
  const second = await expectJson(
    await t.request(`/api/batches/${id}/run`, {
      method: "POST",
      headers: { cookie, "x-goog-api-key": TEST_KEY },
    }),
    409,
  );
  assert.equal(second.error.code, "already_running");
  const busy = await expectJson(
    await t.request(`/api/batches/${id}`, {
      method: "DELETE",
      headers: { cookie },
    }),
    409,
  );
  assert.equal(busy.error.code, "running");

  const cancel = await expectJson(
    await t.request(`/api/batches/${id}/cancel`, {
      method: "POST",
      headers: { cookie },
    }),
    202,
  );
  assert.equal(cancel.cancelled, true);
  const events = await readNdjson(first);
  const last = events.at(-1) as { type: string; batch: { status: string } };
  assert.equal(last.type, "batch");
  assert.equal(last.batch.status, "cancelled");
  assert.equal(t.deps.activeRuns.has(id), false);

  const again = await expectJson(
    await t.request(`/api/batches/${id}/cancel`, {
      method: "POST",
      headers: { cookie },
    }),
    409,
  );
  assert.equal(again.cancelled, false);
});

Deno.test("[api] DELETE /api/batches/:id → 204, rows and files gone, then 404", async () => {
  await using t = await startTestApp();
  const { id, cookie } = await createBatchViaApi(t, {
    prompts: ["a pear"],
    model: PRO,
    imagesPerPrompt: 2,
  });
  await runToEnd(t, id, cookie);
  const dir = join(t.config.imagesDir, id);
  assert.equal([...Deno.readDirSync(dir)].length, 3);

  const deleted = await t.request(`/api/batches/${id}`, {
    method: "DELETE",
    headers: { cookie },
  });
  assert.equal(deleted.status, 204);
  assert.equal(await deleted.text(), "");
  assert.equal(await countRows(t, "batches", "id = ?", [id]), 0);
  assert.equal(await countRows(t, "items", "batch_id = ?", [id]), 0);
  assert.equal(await countRows(t, "images", "batch_id = ?", [id]), 0);
  assert.throws(() => Deno.statSync(dir), Deno.errors.NotFound);

  for (
    const [method, path] of [["GET", ""], ["DELETE", ""], [
      "GET",
      "/manifest.json",
    ], ["POST", "/cancel"]]
  ) {
    const body = await expectJson(
      await t.request(`/api/batches/${id}${path}`, {
        method,
        headers: { cookie },
      }),
      404,
    );
    assert.equal(body.error.code, "not_found");
  }
});
