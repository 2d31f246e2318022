/**
 * K7: a key may arrive only over HTTPS (served here or by a trusted proxy),
 * or over plain HTTP straight from this machine. "Straight" matters: a proxy,
 * tunnel or port-forwarder on this machine also connects from 127.0.0.1, so
 * loopback counts only when no proxy is declared (BATCHGEN_TRUST_PROXY) and
 * no proxy header says the request came through one.
 *
 * HTTPS is a fact of the connection (the server's TLS listener, passed in as
 * the `tls` binding) or of the trusted proxy, never of the request URL: a
 * client writes the request line itself, and an absolute-form target
 * (`POST https://host/… HTTP/1.1` sent over plain HTTP) makes the URL say
 * "https:".
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv, Transport } from "../env.ts";

import { isLoopbackHost } from "../../core/loopback.ts";

export type { Transport };

const PROXY_HEADERS = [
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "x-real-ip",
  "via",
];

/**
 * The entry a trusted proxy wrote: the last one. Proxies append to these
 * lists, so earlier entries are whatever the client claimed.
 */
function lastEntry(value: string | undefined): string | undefined {
  return value?.split(",").at(-1)?.trim() || undefined;
}

/** Puts the request's `Transport` on the context as `transport`. */
export function transport({ trustProxy }: { trustProxy: boolean }) {
  return createMiddleware<AppEnv>(async function transport(c, next) {
    const host = new URL(c.req.url).host;
    const tls = c.env?.tls === true;
    const forwardedProto = trustProxy
      ? lastEntry(c.req.header("x-forwarded-proto"))
      : undefined;
    const ownOrigins = new Set([`${tls ? "https" : "http"}://${host}`]);
    if (forwardedProto) ownOrigins.add(`${forwardedProto}://${host}`);
    c.set("transport", {
      https: isHttps(c, trustProxy),
      secureCookies: tls || trustProxy,
      clientAddress: clientAddress(c, trustProxy),
      ownOrigins,
      keyProblem: keyTransportProblem(c, trustProxy),
    });
    await next();
  });
}

function isHttps(c: Context<AppEnv>, trustProxy: boolean): boolean {
  if (c.env?.tls === true) return true;
  return trustProxy && lastEntry(c.req.header("x-forwarded-proto")) === "https";
}

/**
 * The client's address: the connection's peer, or with a trusted proxy the
 * address that proxy saw (the last `X-Forwarded-For` entry).
 */
function clientAddress(
  c: Context<AppEnv>,
  trustProxy: boolean,
): string | undefined {
  const forwardedFor = trustProxy
    ? lastEntry(c.req.header("x-forwarded-for"))
    : undefined;
  return forwardedFor ?? c.env?.remoteAddr?.hostname;
}

/** Explains why a key may not be sent on this request, or returns undefined. */
function keyTransportProblem(
  c: Context<AppEnv>,
  trustProxy: boolean,
): string | undefined {
  if (isHttps(c, trustProxy)) return undefined;
  // Behind a declared proxy every request may be proxied, even one that
  // carries no proxy header: only HTTPS at the proxy counts then.
  const proxied = trustProxy ||
    PROXY_HEADERS.some((name) => c.req.header(name) !== undefined);
  if (!proxied && isLoopbackHost(c.env?.remoteAddr?.hostname)) return undefined;
  if (proxied && !trustProxy) {
    return "Refused: this request came through a proxy over plain HTTP, so your key could " +
      "travel unencrypted. Serve HTTPS at the proxy and set BATCHGEN_TRUST_PROXY=1, or set " +
      "BATCHGEN_TLS_CERT_FILE and BATCHGEN_TLS_KEY_FILE.";
  }
  return "Refused: your key would travel over plain HTTP. Open BatchGen over HTTPS " +
    "(set BATCHGEN_TLS_CERT_FILE and BATCHGEN_TLS_KEY_FILE, or put it behind an HTTPS " +
    "proxy with BATCHGEN_TRUST_PROXY=1), or use it from the machine it runs on.";
}
