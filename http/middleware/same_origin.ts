/**
 * CSRF protection for every unsafe method. A browser always labels a
 * cross-site request (`Origin`, `Sec-Fetch-Site`), so a request carrying a
 * foreign label is refused; a request with neither comes from a script or
 * curl, which no other site can make a victim's browser send.
 * (Hono's `csrf()` treats a body-less POST as a form and refuses scripts.)
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";
import { problemResponse } from "../problem.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Refuses unsafe requests a browser marked as coming from another origin. */
export function sameOrigin() {
  return createMiddleware<AppEnv>(async function sameOrigin(c, next) {
    if (SAFE_METHODS.has(c.req.method)) return await next();
    const origin = c.req.header("origin");
    const fetchSite = c.req.header("sec-fetch-site");
    const allowed = c.var.transport.ownOrigins;
    const foreignOrigin = origin !== undefined && !allowed.has(origin);
    const foreignSite = fetchSite !== undefined &&
      fetchSite !== "same-origin" &&
      fetchSite !== "none";
    if (foreignOrigin || (foreignSite && !(origin && allowed.has(origin)))) {
      return problemResponse(c, {
        code: "cross_origin",
        message: "Refused: this request came from another site.",
      });
    }
    await next();
  });
}
