/**
 * [references] Reference-image uploads (design.md §7): `POST /api/references`
 * checks every file by its bytes and stores it once by content; `GET
 * /api/references/:id` and `GET /references/:id` serve it to its own
 * workspace only. Nothing is stored when any file is refused.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startTestApp, type TestApp } from "./_helpers.ts";
import { expectJson, newWorkspace, query } from "./_html.ts";
import { encodePng } from "./fake_gemini/png.ts";
import { sha256Hex } from "../lib/storage.ts";
import { LIMITS } from "../core/limits.ts";

const RED = [200, 30, 30] as const;

/** A baseline JPEG header with a SOF0 frame of the given size. */
function jpeg(width: number, height: number): Uint8Array {
  const be16 = (n: number) => [(n >>> 8) & 255, n & 255];
  const segment = (marker: number, body: number[]) => [
    0xff,
    marker,
    ...be16(body.length + 2),
    ...body,
  ];
  return new Uint8Array([
    0xff,
    0xd8,
    ...segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]),
    ...segment(0xc0, [8, ...be16(height), ...be16(width), 1, 1, 0x11, 0]),
    0xff,
    0xd9,
  ]);
}

function upload(
  t: TestApp,
  cookie: string,
  files: { name: string; bytes: Uint8Array; type?: string }[],
): Promise<Response> {
  const body = new FormData();
  for (const file of files) {
    body.append(
      "file",
      new File([file.bytes as Uint8Array<ArrayBuffer>], file.name, {
        type: file.type ?? "image/png",
      }),
    );
  }
  return t.request("/api/references", {
    method: "POST",
    headers: { cookie },
    body,
  });
}

async function referenceRows(t: TestApp): Promise<number> {
  const rows = await query(t, "select count(*) as n from reference_images");
  return Number(rows[0]?.n);
}

/** The stored files (temp files of interrupted writes included). */
async function storedFiles(t: TestApp): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(t.config.referencesDir)) {
      names.push(entry.name);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names.sort();
}

async function assertNothingStored(t: TestApp) {
  assert.equal(await referenceRows(t), 0, "no reference row");
  assert.deepEqual(await storedFiles(t), [], "no reference file");
}

Deno.test("[references] POST /api/references stores a PNG and a JPEG → 201 with their facts", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const png = await encodePng(64, 48, RED);
  const jpg = jpeg(300, 200);
  const response = await upload(t, cookie, [
    { name: "fox.png", bytes: png },
    { name: "C:\\Users\\me\\owl.jpg", bytes: jpg, type: "image/png" },
  ]);
  const body = await expectJson(response, 201);
  assert.equal(body.references.length, 2);
  const [fox, owl] = body.references;
  assert.match(fox.id, /^[0-9a-z]{32}$/);
  assert.deepEqual(fox, {
    id: fox.id,
    name: "fox.png",
    mimeType: "image/png",
    bytes: png.length,
    width: 64,
    height: 48,
    sha256: await sha256Hex(png),
  });
  // The type comes from the bytes, not the part's header; the path is cut.
  assert.deepEqual(owl, {
    id: owl.id,
    name: "owl.jpg",
    mimeType: "image/jpeg",
    bytes: jpg.length,
    width: 300,
    height: 200,
    sha256: await sha256Hex(jpg),
  });
  assert.deepEqual(
    await storedFiles(t),
    [
      `${fox.sha256}.png`,
      `${owl.sha256}.jpg`,
    ].sort(),
  );
  assert.deepEqual(
    await Deno.readFile(join(t.config.referencesDir, `${fox.sha256}.png`)),
    png,
  );
  assert.equal(await referenceRows(t), 2);
});

Deno.test("[references] the same bytes uploaded twice are one file on disk", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const png = await encodePng(8, 8, RED);
  const first = await expectJson(
    await upload(t, cookie, [
      { name: "a.png", bytes: png },
      { name: "b.png", bytes: png },
    ]),
    201,
  );
  const second = await expectJson(
    await upload(t, cookie, [{ name: "again.png", bytes: png }]),
    201,
  );
  const ids = [...first.references, ...second.references].map((r) => r.id);
  assert.equal(new Set(ids).size, 3, "each upload is its own record");
  assert.deepEqual(await storedFiles(t), [`${await sha256Hex(png)}.png`]);
});

Deno.test("[references] a renamed .exe is refused by its bytes, naming the file; nothing is stored", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const exe = new Uint8Array([0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0, 4, 0, 0, 0]);
  const response = await upload(t, cookie, [
    { name: "good.png", bytes: await encodePng(8, 8, RED) },
    { name: "photo.png", bytes: exe },
  ]);
  const body = await expectJson(response, 422);
  assert.equal(body.error.code, "invalid_input");
  assert.equal(
    body.error.message,
    "photo.png is not a PNG, JPEG or WebP image.",
  );
  await assertNothingStored(t);
});

Deno.test("[references] a 30 MB image is refused with its size and the limit; nothing is stored", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const big = await encodePng(16, 16, RED, 30_000_000);
  const response = await upload(t, cookie, [{ name: "big.png", bytes: big }]);
  const body = await expectJson(response, 422);
  assert.equal(
    body.error.message,
    "big.png is 30.0 MB; a reference image can be at most 10 MB.",
  );
  await assertNothingStored(t);
});

Deno.test("[references] upload bodies may exceed the form limit; other bodies may not", async (t) => {
  await using app = await startTestApp();
  const cookie = await newWorkspace(app);
  const padded = await encodePng(16, 16, RED, LIMITS.formBodyBytes + 500_000);

  await t.step("an image over the form limit is accepted", async () => {
    await expectJson(
      await upload(app, cookie, [{ name: "large.png", bytes: padded }]),
      201,
    );
  });

  await t.step("a JSON body of the same size still answers 413", async () => {
    const response = await app.request("/api/batches", {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: JSON.stringify({ prompts: ["x".repeat(padded.length)] }),
    });
    const body = await expectJson(response, 413);
    assert.equal(body.error.code, "body_too_large");
  });

  await t.step(
    "the new-batch form's estimate takes a large body too",
    async () => {
      const form = new FormData();
      form.append("prompts", "a red fox");
      form.append(
        "references",
        new File([padded as Uint8Array<ArrayBuffer>], "large.png"),
      );
      const response = await app.request("/batches/estimate", {
        method: "POST",
        headers: { cookie },
        body: form,
      });
      await response.body?.cancel();
      assert.notEqual(response.status, 413);
    },
  );

  await t.step("an upload over the upload limit answers 413", async () => {
    const response = await app.request("/api/references", {
      method: "POST",
      headers: {
        cookie,
        "content-type": "multipart/form-data; boundary=x",
        "content-length": String(LIMITS.uploadBodyBytes + 1),
      },
      body: "--x--",
    });
    const body = await expectJson(response, 413);
    assert.equal(body.error.code, "body_too_large");
    assert.match(body.error.message, /too large/);
  });
});

Deno.test("[references] more files than one upload allows are refused; nothing is stored", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const png = await encodePng(4, 4, RED);
  const files = Array.from(
    { length: LIMITS.referencesPerUpload + 1 },
    (_, i) => ({ name: `r${i}.png`, bytes: png }),
  );
  const body = await expectJson(await upload(t, cookie, files), 422);
  assert.match(body.error.message, /at most 50 reference images/);
  await assertNothingStored(t);
});

Deno.test("[references] GET serves the exact bytes and type to its own workspace only", async (t) => {
  await using app = await startTestApp();
  const cookie = await newWorkspace(app);
  const other = await newWorkspace(app);
  const jpg = jpeg(20, 10);
  const [ref] = (await expectJson(
    await upload(app, cookie, [{ name: "pic.jpg", bytes: jpg }]),
    201,
  )).references;

  for (const path of [`/api/references/${ref.id}`, `/references/${ref.id}`]) {
    await t.step(`GET ${path.replace(ref.id, ":id")} → the bytes`, async () => {
      const response = await app.request(path, { headers: { cookie } });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "image/jpeg");
      assert.match(
        response.headers.get("cache-control") ?? "",
        /^private, max-age=\d+/,
      );
      assert.equal(response.headers.get("x-content-type-options"), "nosniff");
      assert.deepEqual(new Uint8Array(await response.arrayBuffer()), jpg);
    });
  }

  await t.step("another workspace and an unknown id → 404", async () => {
    for (
      const [id, who] of [[ref.id, other], ["0".repeat(32), cookie]] as const
    ) {
      const api = await app.request(`/api/references/${id}`, {
        headers: { cookie: who },
      });
      const body = await expectJson(api, 404);
      assert.equal(body.error.code, "not_found");
      const page = await app.request(`/references/${id}`, {
        headers: { cookie: who },
      });
      assert.equal(page.status, 404);
      await page.body?.cancel();
    }
  });
});

Deno.test("[references] an upload without an image is refused with a message", async (t) => {
  await using app = await startTestApp();
  const cookie = await newWorkspace(app);
  const post = (headers: Record<string, string>, body?: BodyInit) =>
    app.request("/api/references", {
      method: "POST",
      headers: { cookie, ...headers },
      body,
    });

  await t.step("no body at all → 415 with the expected type", async () => {
    const body = await expectJson(await post({}), 415);
    assert.match(body.error.message, /multipart\/form-data/);
  });

  await t.step("JSON → 415", async () => {
    const body = await expectJson(
      await post({ "content-type": "application/json" }, "{}"),
      415,
    );
    assert.equal(body.error.code, "unsupported_media_type");
  });

  await t.step("multipart with an empty body → 400", async () => {
    const response = await post({
      "content-type": "multipart/form-data; boundary=x",
    });
    const body = await expectJson(response, 400);
    assert.equal(body.error.code, "malformed_body");
  });

  await t.step("multipart without a file part → 422", async () => {
    const form = new FormData();
    form.append("file", "not a file");
    form.append("other", new File([new Uint8Array([1])], "x.png"));
    const body = await expectJson(await post({}, form), 422);
    assert.match(body.error.message, /at least one image as a `file` part/);
  });

  await t.step("an empty file → 422 naming it", async () => {
    const form = new FormData();
    form.append("file", new File([], "empty.png"));
    const body = await expectJson(await post({}, form), 422);
    assert.equal(body.error.message, "empty.png is empty.");
  });
  await assertNothingStored(app);
});
