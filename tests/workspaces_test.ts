/** [workspaces] Isolation between workspaces, the cookie, ids, paths and CSRF. */
import assert from "node:assert/strict";
import {
  createBatchViaApi,
  ORIGIN,
  startTestApp,
  TEST_KEY,
  type TestApp,
} from "./_helpers.ts";
import {
  countRows,
  expectHtml,
  expectJson,
  newWorkspace,
  text,
  textareaValue,
  workspaceCookie,
} from "./_html.ts";

const PRO = "gemini-3-pro-image";

/** The token of a workspace the server issued (and nobody has used). */
async function issuedToken(t: TestApp): Promise<string> {
  return (await newWorkspace(t)).split("=")[1]!;
}

/** A well-formed workspace token the server never issued (43 base64url chars). */
function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-")
    .replace(/\//g, "_").replace(/=+$/, "");
}

/** A batch of workspace A with one saved image. */
async function batchWithImage(t: TestApp) {
  const a = await createBatchViaApi(t, {
    prompts: ["a secret garden"],
    model: PRO,
  });
  const run = await t.request(`/api/batches/${a.id}/run`, {
    method: "POST",
    headers: { cookie: a.cookie, "x-goog-api-key": TEST_KEY },
  });
  await run.text();
  const record = await expectJson(
    await t.request(`/api/batches/${a.id}`, { headers: { cookie: a.cookie } }),
    200,
  );
  const imageUrl: string = record.items[0].image.url;
  const own = await t.request(imageUrl, { headers: { cookie: a.cookie } });
  assert.equal(own.status, 200);
  await own.body?.cancel();
  return { ...a, imageUrl };
}

Deno.test("[workspaces] another workspace (cookie or Bearer) gets 404 for every part of A's batch", async () => {
  await using t = await startTestApp();
  const a = await batchWithImage(t);
  const cookieB = await newWorkspace(t);
  assert.notEqual(cookieB, a.cookie);
  const outsiders: Array<[string, Record<string, string>]> = [
    ["cookie B", { cookie: cookieB }],
    ["bearer C", { authorization: `Bearer ${await issuedToken(t)}` }],
  ];
  for (const [who, headers] of outsiders) {
    const probes: Array<[string, string, Record<string, string>?]> = [
      ["GET", `/batches/${a.id}`],
      ["GET", a.imageUrl],
      ["GET", `/batches/${a.id}/download.zip`],
      ["GET", `/batches/${a.id}/runner?mode=resume`],
      ["POST", `/batches/${a.id}/run`],
      ["POST", `/batches/${a.id}/cancel`],
      ["DELETE", `/batches/${a.id}`],
      ["GET", `/api/batches/${a.id}`],
      ["GET", `/api/batches/${a.id}/manifest.json`],
      ["GET", `/api/batches/${a.id}/download.zip`],
      ["POST", `/api/batches/${a.id}/run`, { "x-goog-api-key": TEST_KEY }],
      ["POST", `/api/batches/${a.id}/cancel`],
      ["DELETE", `/api/batches/${a.id}`],
    ];
    for (const [method, path, extra] of probes) {
      const response = await t.request(path, {
        method,
        headers: { ...headers, ...extra },
        body: method === "POST" && !path.startsWith("/api/")
          ? new URLSearchParams({ apiKey: TEST_KEY })
          : undefined,
      });
      const body = await response.text();
      assert.equal(response.status, 404, `${who} ${method} ${path}: ${body}`);
      assert.ok(!body.includes("a secret garden"), `${who} ${method} ${path}`);
    }
    const prefill = await expectHtml(
      await t.request(`/?from=${a.id}`, { headers }),
      200,
    );
    assert.equal(textareaValue(prefill.doc, "prompts"), "");
  }
  // Nothing was run, cancelled or deleted by the outsiders.
  assert.equal(t.fake.requests.filter((r) => r.method === "POST").length, 1);
  assert.equal(await countRows(t, "batches", "id = ?", [a.id]), 1);
  assert.equal(await countRows(t, "images", "batch_id = ?", [a.id]), 1);
  const still = await t.request(a.imageUrl, { headers: { cookie: a.cookie } });
  assert.equal(still.status, 200);
  await still.body?.cancel();

  // A's own token works as a Bearer token from a script.
  const token = a.cookie.split("=")[1]!;
  const viaBearer = await t.request(`/api/batches/${a.id}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(workspaceCookie(viaBearer), undefined, "no new workspace");
  assert.equal((await expectJson(viaBearer, 200)).id, a.id);
});

Deno.test("[workspaces] history and the API list only the workspace's own batches", async () => {
  await using t = await startTestApp();
  const a = await createBatchViaApi(t, { prompts: ["alpha only"], model: PRO });
  const b = await createBatchViaApi(t, { prompts: ["beta only"], model: PRO });
  const bearer = await issuedToken(t);
  const c = await createBatchViaApi(
    t,
    { prompts: ["gamma only"], model: PRO },
    {
      authorization: `Bearer ${bearer}`,
    },
  );
  const rows = async (headers: Record<string, string>) => {
    const { doc } = await expectHtml(
      await t.request("/history", { headers }),
      200,
    );
    return [...doc.querySelectorAll("table.history tbody a")].map(text);
  };
  assert.deepEqual(await rows({ cookie: a.cookie }), ["alpha only"]);
  assert.deepEqual(await rows({ cookie: b.cookie }), ["beta only"]);
  assert.deepEqual(await rows({ authorization: `Bearer ${bearer}` }), [
    "gamma only",
  ]);
  assert.deepEqual(await rows({ cookie: a.cookie }), ["alpha only"]);
  const list = await expectJson(
    await t.request("/api/batches?q=only", { headers: { cookie: b.cookie } }),
    200,
  );
  assert.deepEqual(list.batches.map((x: { id: string }) => x.id), [b.id]);
  assert.notEqual(c.id, a.id);
  const page = await expectHtml(
    await t.request("/history", {
      headers: { authorization: `Bearer ${bearer}` },
    }),
    200,
  );
  assert.match(
    text(page.doc.querySelector(".token")),
    new RegExp(`Bearer ${bearer}`),
  );
});

Deno.test("[workspaces] the cookie: HttpOnly, SameSite=Lax, Secure only over https; bogus values start afresh", async () => {
  await using t = await startTestApp();
  const first = await t.request("/history");
  await first.body?.cancel();
  const header = first.headers.get("set-cookie") ?? "";
  assert.match(header, /^batchgen_workspace=[A-Za-z0-9_-]{43};/);
  assert.match(header, /;\s*HttpOnly/i);
  assert.match(header, /;\s*SameSite=Lax/i);
  assert.match(header, /;\s*Path=\//);
  assert.doesNotMatch(header, /;\s*Secure/i);

  const https = await t.app.request(
    "https://127.0.0.1/history",
    { headers: { origin: "https://127.0.0.1" } },
    // As the TLS listener in main.ts reports it.
    { remoteAddr: { hostname: "127.0.0.1" }, tls: true },
  );
  await https.body?.cancel();
  assert.equal(https.status, 200);
  assert.match(https.headers.get("set-cookie") ?? "", /;\s*Secure/i);
  assert.match(https.headers.get("set-cookie") ?? "", /;\s*HttpOnly/i);
  assert.match(
    https.headers.get("set-cookie") ?? "",
    /^__Host-batchgen_workspace=/,
    "no sibling subdomain can plant a __Host- cookie",
  );

  const mine = await createBatchViaApi(t, { prompts: ["mine"], model: PRO });
  for (
    const bogus of [
      "nope",
      `${mine.cookie.split("=")[1]}x`,
      "a".repeat(42) + "!",
    ]
  ) {
    const response = await t.request("/history", {
      headers: { cookie: `batchgen_workspace=${bogus}` },
    });
    const fresh = workspaceCookie(response);
    assert.ok(fresh, `a fresh cookie for ${bogus}`);
    assert.notEqual(fresh, `batchgen_workspace=${bogus}`);
    assert.notEqual(fresh, mine.cookie);
    const { doc } = await expectHtml(response, 200);
    assert.match(text(doc.querySelector("main")), /No batches yet/);
  }
  const kept = await t.request("/history", {
    headers: { cookie: mine.cookie },
  });
  assert.equal(workspaceCookie(kept), undefined, "a valid cookie is kept");
  await kept.body?.cancel();
});

Deno.test("[workspaces] batch and item ids are 32+ lowercase base-36 characters", async () => {
  await using t = await startTestApp();
  const ids = new Set<string>();
  for (let i = 0; i < 5; i++) {
    const { id, cookie } = await createBatchViaApi(t, {
      prompts: ["a", "b"],
      model: PRO,
    });
    const record = await expectJson(
      await t.request(`/api/batches/${id}`, { headers: { cookie } }),
      200,
    );
    for (
      const x of [
        id,
        ...record.items.map((item: { id: string }) => item.id),
      ]
    ) {
      assert.match(x, /^[0-9a-z]{32,}$/);
      ids.add(x);
    }
  }
  assert.equal(ids.size, 15);
});

Deno.test("[workspaces] path traversal in image URLs is a 404, never a file", async () => {
  await using t = await startTestApp();
  const a = await batchWithImage(t);
  const file = a.imageUrl.split("/").pop()!;
  const paths = [
    `/images/${a.id}/..%2F..%2Fbatchgen.db`,
    `/images/${a.id}/..%2Fmanifest.json`,
    `/images/${a.id}/manifest.json`,
    `/images/../x`,
    `/images/${a.id}/../../batchgen.db`,
    `/images/%2E%2E/batchgen.db`,
    `/images/${a.id}/sub%2F${file}`,
    `/images/${a.id}/sub/${file}`,
    `/images/${a.id}/%2F${file}`,
    `/images/${a.id}.${a.id}/${file}`,
    `/images/..${a.id}/${file}`,
    `/images/${a.id}%2F..%2F${a.id}/${file}`,
    `/images/${a.id}/${file}%00.png`,
  ];
  for (const path of paths) {
    const response = await t.request(path, { headers: { cookie: a.cookie } });
    const bytes = new Uint8Array(await response.arrayBuffer());
    assert.equal(response.status, 404, path);
    assert.doesNotMatch(
      response.headers.get("content-type") ?? "",
      /image|octet/,
      path,
    );
    const head = new TextDecoder().decode(bytes.subarray(0, 16));
    assert.ok(!head.startsWith("SQLite format"), path);
    assert.ok(!head.includes("PNG"), path);
    assert.ok(!head.startsWith("{"), path);
  }
});

Deno.test("[workspaces] cross-origin unsafe requests are refused with 403 by CSRF protection", async () => {
  await using t = await startTestApp();
  const a = await createBatchViaApi(t, { prompts: ["target"], model: PRO });
  const evil = { origin: "http://evil.example", cookie: a.cookie };
  const attempts: Array<[string, string, BodyInit]> = [
    ["POST", "/batches", new URLSearchParams({ prompts: "x", model: PRO })],
    ["POST", `/batches/${a.id}/run`, new URLSearchParams({ apiKey: TEST_KEY })],
    ["POST", `/batches/${a.id}/cancel`, new URLSearchParams()],
    ["DELETE", `/batches/${a.id}`, new URLSearchParams()],
    ["POST", "/keys/validate", new URLSearchParams({ apiKey: TEST_KEY })],
    ["POST", `/api/batches/${a.id}/run`, "x"],
    ["DELETE", `/api/batches/${a.id}`, "x"],
  ];
  for (const [method, path, body] of attempts) {
    const multipart = body instanceof URLSearchParams ? new FormData() : body;
    if (multipart instanceof FormData) {
      for (const [k, v] of body as URLSearchParams) multipart.set(k, v);
    }
    for (const sent of [body, multipart]) {
      const response = await t.request(path, {
        method,
        headers: evil,
        body: sent,
      });
      await response.body?.cancel();
      assert.equal(response.status, 403, `${method} ${path}`);
    }
  }
  const sameOrigin = await t.request("/batches", {
    method: "POST",
    headers: { origin: ORIGIN, cookie: a.cookie },
    body: new URLSearchParams({ prompts: "allowed", model: PRO }),
  });
  await sameOrigin.body?.cancel();
  assert.equal(sameOrigin.status, 303);
  assert.equal(await countRows(t, "batches"), 2);
  assert.equal(t.fake.requests.length, 0, "no key was used");
});

Deno.test("[workspaces] only tokens this server issued open a workspace; two cookies are never guessed between", async () => {
  await using t = await startTestApp();
  const mine = await createBatchViaApi(t, { prompts: ["mine"], model: PRO });

  // A made-up Bearer token is refused, not adopted as a new workspace.
  const forged = randomToken();
  const api = await t.request("/api/batches", {
    headers: { authorization: `Bearer ${forged}` },
  });
  const refused = await expectJson(api, 401);
  assert.equal(refused.error.code, "unknown_workspace");

  // A made-up cookie (planted by another page on this host) opens nothing:
  // the browser gets a fresh workspace of the server's own making.
  const planted = await t.request("/history", {
    headers: { cookie: `batchgen_workspace=${forged}` },
  });
  const fresh = workspaceCookie(planted);
  assert.ok(
    fresh && !fresh.endsWith(forged),
    "a new token, not the planted one",
  );
  await planted.body?.cancel();
  const later = await createBatchViaApi(t, { prompts: ["later"], model: PRO }, {
    cookie: `batchgen_workspace=${forged}`,
  });
  assert.notEqual(later.cookie, `batchgen_workspace=${forged}`);

  // Two different workspace cookies: a clear 400, no guess.
  const other = await newWorkspace(t);
  for (const path of ["/history", "/api/batches"]) {
    const both = await t.request(path, {
      headers: { cookie: `${mine.cookie}; ${other}` },
    });
    assert.equal(both.status, 400, path);
    assert.match(await both.text(), /two BatchGen workspace cookies/);
  }
  // The same cookie twice is one workspace.
  const twice = await t.request("/history", {
    headers: { cookie: `${mine.cookie}; ${mine.cookie}` },
  });
  const { doc } = await expectHtml(twice, 200);
  assert.match(text(doc.querySelector("main")), /mine/);
});

Deno.test("[workspaces] the page says which workspace it shows", async () => {
  await using t = await startTestApp();
  const a = await createBatchViaApi(t, { prompts: ["alpha"], model: PRO });
  const b = await newWorkspace(t);
  const label = async (cookie: string) => {
    const { doc } = await expectHtml(
      await t.request("/history", { headers: { cookie } }),
      200,
    );
    return text(doc.querySelector("[data-workspace]"));
  };
  const labelA = await label(a.cookie);
  assert.match(labelA, /Workspace [0-9a-f]{6}/);
  assert.equal(await label(a.cookie), labelA, "stable");
  assert.notEqual(await label(b), labelA);
});
