/**
 * K7: a key may arrive only over HTTPS (served here or by a trusted proxy),
 * or over plain HTTP from this machine.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app_env.ts";

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopback(hostname: string | undefined): boolean {
  if (!hostname) return false;
  const h = hostname.replace(/^\[|\]$/g, "").replace(/^::ffff:/i, "");
  return h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Whether this request arrived over HTTPS. */
export function isHttps(c: Context<AppEnv>, trustProxy: boolean): boolean {
  if (new URL(c.req.url).protocol === "https:") return true;
  return trustProxy &&
    c.req.header("x-forwarded-proto")?.split(",")[0]?.trim() === "https";
}

/**
 * The client's address: the connection's peer, or with a trusted proxy the
 * first `X-Forwarded-For` entry (what the proxy saw).
 */
export function clientAddress(
  c: Context<AppEnv>,
  trustProxy: boolean,
): string | undefined {
  const forwardedFor = trustProxy
    ? c.req.header("x-forwarded-for")?.split(",")[0]?.trim()
    : undefined;
  return forwardedFor ?? c.env?.remoteAddr?.hostname;
}

/** Explains why a key may not be sent on this request, or returns undefined. */
export function keyTransportProblem(
  c: Context<AppEnv>,
  trustProxy: boolean,
): string | undefined {
  if (isHttps(c, trustProxy)) return undefined;
  if (isLoopback(clientAddress(c, trustProxy))) return undefined;
  return "Refused: your key would travel over plain HTTP. Open BatchGen over HTTPS " +
    "(set BATCHGEN_TLS_CERT_FILE and BATCHGEN_TLS_KEY_FILE, or put it behind an HTTPS " +
    "proxy with BATCHGEN_TRUST_PROXY=1), or use it from the machine it runs on.";
}
