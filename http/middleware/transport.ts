/**
 * K7: a key may arrive only over HTTPS (served here or by a trusted proxy),
 * or over plain HTTP straight from this machine. "Straight" matters: a proxy,
 * tunnel or port-forwarder on this machine also connects from 127.0.0.1, so
 * loopback counts only when no proxy is declared (BATCHGEN_TRUST_PROXY) and
 * no proxy header says the request came through one.
 */
import type { Context } from "hono";
import type { AppEnv } from "../env.ts";

const PROXY_HEADERS = [
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "x-real-ip",
  "via",
];

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopback(hostname: string | undefined): boolean {
  if (!hostname) return false;
  const h = hostname.replace(/^\[|\]$/g, "").replace(/^::ffff:/i, "");
  return h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * The entry a trusted proxy wrote: the last one. Proxies append to these
 * lists, so earlier entries are whatever the client claimed.
 */
function lastEntry(value: string | undefined): string | undefined {
  return value?.split(",").at(-1)?.trim() || undefined;
}

/** Whether this request arrived over HTTPS. */
export function isHttps(c: Context<AppEnv>, trustProxy: boolean): boolean {
  if (new URL(c.req.url).protocol === "https:") return true;
  return trustProxy && lastEntry(c.req.header("x-forwarded-proto")) === "https";
}

/**
 * The client's address: the connection's peer, or with a trusted proxy the
 * address that proxy saw (the last `X-Forwarded-For` entry).
 */
export function clientAddress(
  c: Context<AppEnv>,
  trustProxy: boolean,
): string | undefined {
  const forwardedFor = trustProxy
    ? lastEntry(c.req.header("x-forwarded-for"))
    : undefined;
  return forwardedFor ?? c.env?.remoteAddr?.hostname;
}

/** Explains why a key may not be sent on this request, or returns undefined. */
export function keyTransportProblem(
  c: Context<AppEnv>,
  trustProxy: boolean,
): string | undefined {
  if (isHttps(c, trustProxy)) return undefined;
  // Behind a declared proxy every request may be proxied, even one that
  // carries no proxy header: only HTTPS at the proxy counts then.
  const proxied = trustProxy ||
    PROXY_HEADERS.some((name) => c.req.header(name) !== undefined);
  if (!proxied && isLoopback(c.env?.remoteAddr?.hostname)) return undefined;
  if (proxied && !trustProxy) {
    return "Refused: this request came through a proxy over plain HTTP, so your key could " +
      "travel unencrypted. Serve HTTPS at the proxy and set BATCHGEN_TRUST_PROXY=1, or set " +
      "BATCHGEN_TLS_CERT_FILE and BATCHGEN_TLS_KEY_FILE.";
  }
  return "Refused: your key would travel over plain HTTP. Open BatchGen over HTTPS " +
    "(set BATCHGEN_TLS_CERT_FILE and BATCHGEN_TLS_KEY_FILE, or put it behind an HTTPS " +
    "proxy with BATCHGEN_TRUST_PROXY=1), or use it from the machine it runs on.";
}
