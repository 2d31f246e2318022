/**
 * Headers every answer gets, and reading a form body once: a strict CSP (no
 * inline script), HSTS over HTTPS, no caching of anything that may carry a
 * key-derived result, and a 400 (not a 500) for a form that cannot be read.
 */
import { createMiddleware } from "hono/factory";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "../env.ts";
import { problemResponse } from "../problem.ts";

/** CSP, framing, referrer and content-type rules. */
export function securityHeaders() {
  return secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", "data:"],
      connectSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      objectSrc: ["'none'"],
    },
    referrerPolicy: "no-referrer",
    xFrameOptions: "DENY",
    // Set below, only where the request came over HTTPS.
    strictTransportSecurity: false,
  });
}

/** HSTS over HTTPS; `no-store` unless a route allowed caching. */
export function cacheRules() {
  return createMiddleware<AppEnv>(async function cacheRules(c, next) {
    await next();
    if (c.var.transport.https) {
      c.header(
        "Strict-Transport-Security",
        "max-age=31536000; includeSubDomains",
      );
    }
    // Pages carry the key field and some responses carry key-derived results:
    // nothing but static assets and images may be cached. (Hono's streamSSE
    // says "no-cache", which still lets a cache store the run stream.)
    if (
      !c.res.headers.has("cache-control") ||
      c.res.headers.get("content-type")?.startsWith("text/event-stream")
    ) {
      c.header("Cache-Control", "no-store");
    }
  });
}

/**
 * A form body that cannot be parsed (broken multipart, no boundary) is the
 * client's mistake: 400, not the 500 page. Routes reuse the parsed body.
 */
export function readableForm() {
  return createMiddleware<AppEnv>(async function readableForm(c, next) {
    const type = c.req.header("content-type") ?? "";
    if (
      c.req.raw.body &&
      /^(multipart\/form-data|application\/x-www-form-urlencoded)\b/i.test(type)
    ) {
      try {
        await c.req.parseBody();
      } catch {
        return problemResponse(c, {
          code: "malformed_body",
          message: "The form data could not be read; send it again.",
        });
      }
    }
    await next();
  });
}
