/**
 * K7 through a real listener: HTTPS is a fact of the connection, never of the
 * request line. A client on plain HTTP that writes an absolute-form target
 * (`POST https://host/… HTTP/1.1`) makes the request URL say "https:"; the
 * server must still see plain HTTP: no key accepted, no key field, no HSTS,
 * no Secure or `__Host-` cookie. The peer address is set to a non-loopback
 * one (this machine can only connect from loopback), as main.ts passes it.
 */
import assert from "node:assert/strict";
import { startTestApp, TEST_KEY, type TestApp } from "./_helpers.ts";

/** Sends one raw HTTP/1.1 request and reads the whole answer. */
async function raw(port: number, head: string[], body = ""): Promise<{
  status: number;
  headers: string;
  body: string;
}> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const text = [
    ...head,
    "Connection: close",
    `Content-Length: ${new TextEncoder().encode(body).length}`,
    "",
    body,
  ].join("\r\n");
  await conn.write(new TextEncoder().encode(text));
  const answer = await new Response(conn.readable).text();
  const [headers = "", ...rest] = answer.split("\r\n\r\n");
  return {
    status: Number(headers.split(" ")[1]),
    headers: headers.toLowerCase(),
    body: rest.join("\r\n\r\n"),
  };
}

/**
 * A real listener for the app, reporting a non-loopback peer and whether the
 * connection is TLS, as main.ts does.
 */
function serveRemote(t: TestApp, tls: boolean) {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) =>
      t.app.fetch(request, { remoteAddr: { hostname: "203.0.113.9" }, tls }),
  );
}

Deno.test("K7 an absolute-form https:// request target over plain HTTP is still plain HTTP", async () => {
  await using t = await startTestApp();
  await using server = serveRemote(t, false);
  const port = server.addr.port;
  const host = `127.0.0.1:${port}`;

  const validate = await raw(port, [
    `POST https://${host}/api/keys/validate HTTP/1.1`,
    `Host: ${host}`,
    `x-goog-api-key: ${TEST_KEY}`,
  ]);
  assert.equal(validate.status, 403, validate.body);
  assert.match(validate.body, /insecure_transport/);
  assert.doesNotMatch(validate.headers, /strict-transport-security/);

  const page = await raw(port, [
    `GET https://${host}/ HTTP/1.1`,
    `Host: ${host}`,
  ]);
  assert.equal(page.status, 200);
  assert.doesNotMatch(page.body, /name="apiKey"/, "no key field over HTTP");
  assert.doesNotMatch(page.headers, /strict-transport-security/);
  assert.match(page.headers, /set-cookie: batchgen_workspace=/);
  assert.doesNotMatch(page.headers, /__host-|;\s*secure/);

  assert.equal(t.fake.requests.length, 0, "the key never reached Google");
});

Deno.test("K7 the same listener with TLS reported by the connection counts as HTTPS", async () => {
  await using t = await startTestApp();
  await using server = serveRemote(t, true);
  const host = `127.0.0.1:${server.addr.port}`;
  const page = await raw(server.addr.port, [
    `GET / HTTP/1.1`,
    `Host: ${host}`,
  ]);
  assert.equal(page.status, 200);
  assert.match(page.body, /name="apiKey"/);
  assert.match(page.headers, /strict-transport-security: max-age/);
  assert.match(page.headers, /set-cookie: __host-batchgen_workspace=/);
});
