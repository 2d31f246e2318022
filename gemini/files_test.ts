/**
 * [gemini] Reference images go up once through the Files API and come down
 * at the end of a run; the key goes only to the base URL's origin, in the
 * `x-goog-api-key` header, and no answer (a foreign upload address, garbage,
 * a huge body, a bad name) makes it go anywhere else or leak into a message.
 */
import assert from "node:assert/strict";
import {
  type FakeGemini,
  sha256Hex,
  startFakeGemini,
} from "../tests/fake_gemini.ts";
import { deleteFile, uploadFile, type UploadResult } from "./files.ts";
import { fileReference, requestContents } from "./parts.ts";

const KEY = "AQ.Ab8RN6LkFilesTestKey0123456789abcdefghijklmn";
const PNG = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 7, 7, 7, 7]);

function upload(
  baseUrl: string,
  more: Partial<Parameters<typeof uploadFile>[0]> = {},
) {
  return uploadFile({
    apiKey: KEY,
    baseUrl,
    bytes: PNG,
    mimeType: "image/png",
    displayName: "reference.png",
    pollIntervalMs: 5,
    ...more,
  });
}

function failure(result: UploadResult) {
  assert.equal(result.ok, false, "expected a failure");
  return (result as Extract<UploadResult, { ok: false }>).failure;
}

/** Every request carried the key in the header only. */
function assertKeyOnlyInHeaders(fake: FakeGemini, key = KEY) {
  for (const r of fake.requests) {
    assert.equal(r.headers["x-goog-api-key"], key, r.path);
    assert.ok(!r.path.includes(key), `key in path ${r.path}`);
    assert.ok(!JSON.stringify(r.query).includes(key), `key in query ${r.path}`);
    assert.ok(!JSON.stringify(r.body).includes(key), `key in body ${r.path}`);
  }
}

/** A stand-in for Google that answers with `handler` and records what came. */
function stub(handler: (request: Request, url: URL) => Response) {
  const seen: { method: string; path: string; key: string | null }[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const url = new URL(request.url);
      await request.body?.cancel();
      seen.push({
        method: request.method,
        path: url.pathname,
        key: request.headers.get("x-goog-api-key"),
      });
      return handler(request, url);
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    seen,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** A stub whose start answer is fine and whose upload answer is `final`. */
function stubUpload(final: () => Response) {
  const server = stub((request, url) => {
    if (url.pathname === "/upload/v1beta/files" && !url.search) {
      return new Response(null, {
        headers: {
          "x-goog-upload-url": `${url.origin}/upload/v1beta/files?upload_id=u1`,
          "x-goog-upload-status": "active",
        },
      });
    }
    if (url.pathname === "/upload/v1beta/files") return final();
    return Response.json({}, {
      status: request.method === "DELETE" ? 200 : 404,
    });
  });
  return server;
}

Deno.test("[gemini] uploadFile() uploads once, the file serves requests, deleteFile() removes it", async () => {
  await using fake = startFakeGemini();
  const result = await upload(fake.url);
  assert.ok(result.ok, JSON.stringify(result));
  const { file } = result;
  assert.match(file.name, /^files\/[a-z0-9]+$/);
  assert.equal(file.uri, `${fake.url}/v1beta/${file.name}`);
  assert.equal(file.mimeType, "image/png");
  assert.equal(fake.files().uploaded, 1);
  const start = fake.requests[0]!;
  assert.equal(start.path, "/upload/v1beta/files");
  assert.deepEqual(start.body, { file: { displayName: "reference.png" } });

  for (const prompt of ["a fox", "a hare"]) {
    const response = await fetch(
      `${fake.url}/v1beta/models/gemini-3.1-flash-lite-image:generateContent`,
      {
        method: "POST",
        headers: { "x-goog-api-key": KEY, "content-type": "application/json" },
        body: JSON.stringify({
          contents: requestContents(prompt, [fileReference(file)]),
        }),
      },
    );
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  const hash = await sha256Hex(PNG);
  const seen = fake.requests.flatMap((r) => r.inputImages ?? []);
  assert.deepEqual(seen.map((i) => [i.kind, i.sha256, i.fileName]), [
    ["file", hash, file.name],
    ["file", hash, file.name],
  ]);

  assert.equal(
    await deleteFile({ apiKey: KEY, baseUrl: fake.url, name: file.name }),
    true,
  );
  assert.deepEqual(fake.files(), { uploaded: 1, deleted: 1, live: [] });
  assert.equal(
    await deleteFile({ apiKey: KEY, baseUrl: fake.url, name: file.name }),
    false,
    "a second delete finds nothing",
  );
  assertKeyOnlyInHeaders(fake);
});

Deno.test("[gemini] uploadFile() refuses an upload address on another origin and sends it nothing", async () => {
  await using elsewhere = stub(() =>
    Response.json({ file: { name: "files/x" } })
  );
  await using google = stub((_request, url) =>
    new Response(null, {
      headers: {
        "x-goog-upload-url": `${elsewhere.url}${url.pathname}?upload_id=evil`,
        "x-goog-upload-status": "active",
      },
    })
  );
  const result = failure(await upload(google.url));
  assert.equal(result.kind, "malformed");
  assert.match(result.message, /upload address .* not Google's/);
  assert.deepEqual(elsewhere.seen, [], "the other host was called");
  assert.deepEqual(google.seen.map((s) => s.key), [KEY]);
});

Deno.test("[gemini] uploadFile() maps bad keys to auth failures without echoing the key", async (t) => {
  const cases: [string, string][] = [
    ["invalid (400, key echoed in DebugInfo)", "bad-" + KEY],
    ["leaked (403)", KEY],
  ];
  for (const [name, key] of cases) {
    await t.step(name, async () => {
      await using fake = startFakeGemini({ leakedKeys: [KEY] });
      const result = failure(await upload(fake.url, { apiKey: key }));
      assert.equal(result.kind, "auth");
      assert.ok(!result.message.includes(key), result.message);
      assert.ok(!result.message.includes("AQ."), result.message);
      assert.equal(fake.files().uploaded, 0);
      assert.equal(fake.requests.length, 1, "stopped after the start");
    });
  }
});

Deno.test("[gemini] uploadFile() survives garbage, huge and hostile answers", async (t) => {
  const garbage: [string, () => Response, RegExp][] = [
    [
      "not JSON",
      () =>
        new Response("<html>oops</html>", {
          headers: { "x-goog-upload-status": "final" },
        }),
      /Cannot read/,
    ],
    [
      "a bad file name",
      () => Response.json({ file: { name: "../../../etc", state: "ACTIVE" } }),
      /no valid file name/,
    ],
    [
      "an unfinished upload",
      () =>
        new Response(null, { headers: { "x-goog-upload-status": "active" } }),
      /did not finish/,
    ],
    [
      "an unknown state",
      () => Response.json({ file: { name: "files/abc", state: "WEIRD" } }),
      /state WEIRD/,
    ],
  ];
  for (const [name, answer, message] of garbage) {
    await t.step(name, async () => {
      await using google = stubUpload(answer);
      const result = failure(await upload(google.url));
      assert.equal(result.kind, "malformed");
      assert.match(result.message, message);
      assert.ok(google.seen.every((s) => s.key === KEY));
    });
  }

  await t.step("a huge answer is cut, not read to the end", async () => {
    let sent = 0;
    const chunk = new TextEncoder().encode(" ".repeat(64 * 1024));
    await using google = stubUpload(() =>
      new Response(
        new ReadableStream({
          pull(controller) {
            sent += chunk.length;
            if (sent > 256 * 1024 * 1024) controller.close();
            else controller.enqueue(chunk);
          },
        }),
        { headers: { "x-goog-upload-status": "final" } },
      )
    );
    const result = failure(await upload(google.url));
    assert.equal(result.kind, "malformed");
    assert.ok(sent < 32 * 1024 * 1024, `the client pulled ${sent} bytes`);
  });

  await t.step("an error echoing the key, padded to megabytes", async () => {
    await using google = stubUpload(() =>
      Response.json({
        error: {
          code: 400,
          status: "INVALID_ARGUMENT",
          message: `Bad upload for ${KEY} ${"x".repeat(2_000_000)} ${KEY}`,
        },
      }, { status: 400 })
    );
    const result = failure(await upload(google.url));
    assert.equal(
      result.kind,
      "invalid-request",
      "a cut 400 body is its own message",
    );
    assert.ok(!result.message.includes("Ab8RN6Lk"), result.message);
    assert.ok(result.message.length <= 600);
  });

  await t.step(
    "a size Google did not receive: the file is deleted again",
    async () => {
      await using google = stubUpload(() =>
        Response.json({
          file: { name: "files/abc", sizeBytes: "1", state: "ACTIVE" },
        })
      );
      const result = failure(await upload(google.url));
      assert.match(result.message, /different number of bytes/);
      assert.deepEqual(google.seen.at(-1), {
        method: "DELETE",
        path: "/v1beta/files/abc",
        key: KEY,
      });
    },
  );
});

Deno.test("[gemini] uploadFile() waits while Google processes the file, within bounds", async (t) => {
  await t.step("ready after a few checks", async () => {
    await using fake = startFakeGemini({ fileProcessingGets: 2 });
    const result = await upload(fake.url);
    assert.ok(result.ok);
    const gets = fake.requests.filter((r) => r.method === "GET");
    assert.equal(gets.length, 3);
    assert.deepEqual(fake.files().live, [result.file.name]);
  });
  await t.step(
    "still processing after five checks: a timeout, the file deleted",
    async () => {
      await using fake = startFakeGemini({ fileProcessingGets: 100 });
      const result = failure(await upload(fake.url));
      assert.equal(result.kind, "timeout");
      assert.deepEqual(fake.files(), { uploaded: 1, deleted: 1, live: [] });
    },
  );
  await t.step("cancelled while waiting: the file deleted", async () => {
    await using fake = startFakeGemini({ fileProcessingGets: 100 });
    const controller = new AbortController();
    const pending = upload(fake.url, {
      signal: controller.signal,
      pollIntervalMs: 10_000,
    });
    while (fake.files().uploaded === 0) {
      await new Promise((r) => setTimeout(r, 5));
    }
    controller.abort();
    const result = failure(await pending);
    assert.equal(result.kind, "network");
    assert.match(result.message, /cancelled/);
    assert.deepEqual(fake.files().live, []);
  });
});

Deno.test("[gemini] uploadFile() and deleteFile() refuse bad input without a request", async () => {
  await using fake = startFakeGemini();
  assert.equal(
    failure(await upload(fake.url, { bytes: new Uint8Array() })).kind,
    "invalid-request",
  );
  assert.equal(
    failure(await upload(fake.url, { mimeType: "image/png\r\nx: y" })).kind,
    "invalid-request",
  );
  const plain = failure(await upload("http://example.com"));
  assert.equal(plain.kind, "invalid-request");
  assert.match(plain.message, /https/);
  for (
    const name of [
      "files/../models",
      "abc",
      "files/",
      `files/${"a".repeat(129)}`,
    ]
  ) {
    assert.equal(
      await deleteFile({ apiKey: KEY, baseUrl: fake.url, name }),
      false,
      name,
    );
  }
  assert.equal(fake.requests.length, 0);
  assert.equal(
    await deleteFile({
      apiKey: KEY,
      baseUrl: "http://127.0.0.1:9",
      name: "files/abc",
    }),
    false,
    "nothing listening",
  );
});
