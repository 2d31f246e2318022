/**
 * DNS rebinding: a site whose name an attacker points at 127.0.0.1 would
 * otherwise reach a BatchGen on this machine as "same origin". Only the
 * `Host` names this instance is meant to be reached by are answered.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";
import { problemResponse } from "../problem.ts";

/** The host name of a `Host` header value, without its port. */
export function hostName(host: string): string {
  const lower = host.trim().toLowerCase();
  if (lower.startsWith("[")) return lower.slice(0, lower.indexOf("]") + 1);
  return lower.replace(/:\d+$/, "");
}

/** Refuses requests whose `Host` is not in `allowed` (undefined: any). */
export function allowedHosts(allowed: readonly string[] | undefined) {
  return createMiddleware<AppEnv>(async function allowedHosts(c, next) {
    if (!allowed) return await next();
    const host = hostName(c.req.header("host") ?? new URL(c.req.url).host);
    if (allowed.includes(host)) return await next();
    return problemResponse(c, {
      code: "unknown_host",
      message: `This BatchGen answers only to ${
        allowed.join(", ")
      }. To reach it by another name, add that name to BATCHGEN_ALLOWED_HOSTS.`,
    });
  });
}
