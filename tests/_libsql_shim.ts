/**
 * A development aid, not part of the suite: lets the libSQL-server variant of
 * tests/two_instances_test.ts run against Turso's own server, the one libSQL
 * server that installs from npm (`turso`, whose `tursodb --sync-server`
 * speaks only part of the Hrana-over-HTTP protocol that @libsql/client uses:
 * it has no `close`, `store_sql` or `close_sql` requests). This proxy
 * answers those itself, inlines stored SQL, and forwards the rest.
 *
 *   npm install --prefix /tmp/turso turso@0.6.0
 *   /tmp/turso/node_modules/@tursodatabase/cli-linux-x64-gnu/tursodb \
 *     --sync-server 127.0.0.1:18080 /tmp/turso/batchgen.db &
 *   deno run --allow-net=127.0.0.1 tests/_libsql_shim.ts 18081 http://127.0.0.1:18080 &
 *   BATCHGEN_TEST_LIBSQL_URL=http://127.0.0.1:18081 BATCHGEN_TEST_LIBSQL_TOKEN=any \
 *     deno test -A tests/two_instances_test.ts
 *
 * It logs the Authorization header of the first request, to show that the
 * token (BATCHGEN_DATABASE_AUTH_TOKEN) reaches the server.
 */

type Stmt = { sql?: string; sql_id?: number } & Record<string, unknown>;
type Request = { type: string; [key: string]: unknown };

/** Starts the proxy on `port`, forwarding to `target`. */
export function startShim(port: number, target: string): Deno.HttpServer {
  let first = true;
  return Deno.serve({ port, hostname: "127.0.0.1" }, async (request) => {
    const path = new URL(request.url).pathname;
    if (first) {
      first = false;
      await Deno.stderr.write(new TextEncoder().encode(
        `authorization: ${request.headers.get("authorization")}\n`,
      ));
    }
    if (request.method !== "POST") {
      return await fetch(target + path, { method: request.method });
    }
    const body = await request.json() as { requests: Request[] };
    const stored = new Map<number, string>();
    const inline = (stmt: Stmt | undefined) =>
      stmt?.sql_id === undefined
        ? stmt
        : { ...stmt, sql: stored.get(stmt.sql_id), sql_id: undefined };
    const forwarded: Request[] = [];
    const local: (Record<string, unknown> | undefined)[] = [];
    for (const r of body.requests) {
      if (r.type === "close" || r.type === "close_sql") {
        local.push({ type: "ok", response: { type: r.type } });
      } else if (r.type === "store_sql") {
        stored.set(r.sql_id as number, r.sql as string);
        local.push({ type: "ok", response: { type: "store_sql" } });
      } else {
        local.push(undefined);
        if (r.type === "execute") {
          forwarded.push({ ...r, stmt: inline(r.stmt as Stmt) });
        } else if (r.type === "batch") {
          const steps = (r.batch as { steps: { stmt: Stmt }[] }).steps;
          forwarded.push({
            ...r,
            batch: {
              steps: steps.map((s) => ({ ...s, stmt: inline(s.stmt) })),
            },
          });
        } else forwarded.push(r);
      }
    }
    const answer = await fetch(target + path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ baton: null, requests: forwarded }),
    });
    if (!answer.ok) {
      return new Response(await answer.text(), { status: answer.status });
    }
    const { results } = await answer.json() as { results: unknown[] };
    let next = 0;
    return Response.json({
      baton: null,
      base_url: null,
      results: local.map((own) => own ?? results[next++]),
    });
  });
}

if (import.meta.main) {
  const [port = "18081", target = "http://127.0.0.1:18080"] = Deno.args;
  startShim(Number(port), target);
}
