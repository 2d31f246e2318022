/** Builds the Hono app from its dependencies; no I/O on import. */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { basicAuth } from "hono/basic-auth";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import type { AppDeps, AppEnv } from "./http/env.ts";
import { LIMITS } from "./core/limits.ts";
import { createRateLimits } from "./http/middleware/rate_limit.ts";
import { isHttps, keyTransportProblem } from "./http/middleware/transport.ts";
import { workspace } from "./http/middleware/workspace.ts";
import { sameOrigin } from "./http/middleware/same_origin.ts";
import { scrubError } from "./core/scrub.ts";
import { apiRoutes } from "./http/api/index.ts";
import { apiError } from "./http/problem.ts";
import { batchRoutes } from "./http/pages/batches.tsx";
import { imageRoutes } from "./http/pages/images.ts";
import { keyRoutes } from "./http/pages/keys.tsx";
import { rateLimited } from "./http/middleware/rate_limited.tsx";
import { runRoutes } from "./http/pages/runs.tsx";
import { staticRoutes } from "./http/pages/assets.ts";
import { errorPage, notFoundPage, pageRoutes } from "./http/pages/static_pages.tsx";

export type { AppDeps };

/** The whole BatchGen web app. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const { config, log } = deps;
  const app = new Hono<AppEnv>();

  app.use(secureHeaders({
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
    strictTransportSecurity: false,
  }));
  app.use(async function transportHeaders(c, next) {
    await next();
    if (isHttps(c, config.trustProxy)) {
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
  if (config.basicAuth) {
    // Every route, static assets included. A wrong password is a 401 with
    // WWW-Authenticate (onError answers the exception's own response).
    app.use(basicAuth({
      ...config.basicAuth,
      realm: "BatchGen",
      invalidUserMessage: (c) => {
        const message =
          "This BatchGen asks for a user name and password (HTTP Basic authentication).";
        return c.req.path.startsWith("/api/")
          ? { error: { code: "unauthorized", message } }
          : message;
      },
    }));
  }
  app.route("/", staticRoutes());
  app.use(sameOrigin({ trustProxy: config.trustProxy }));
  app.use(
    bodyLimit({
      maxSize: LIMITS.formBodyBytes,
      onError: (c) =>
        c.req.path.startsWith("/api/")
          ? apiError(
            c,
            413,
            "body_too_large",
            `The request body is larger than ${LIMITS.formBodyBytes} bytes.`,
          )
          : c.text(
            `The request is too large (at most ${LIMITS.formBodyBytes} bytes).`,
            413,
          ),
    }),
  );
  // A form body that cannot be parsed (broken multipart, no boundary) is the
  // client's mistake: 400, not the 500 page. Routes reuse the parsed body.
  app.use(async function readableForm(c, next) {
    const type = c.req.header("content-type") ?? "";
    if (
      c.req.raw.body &&
      /^(multipart\/form-data|application\/x-www-form-urlencoded)\b/i.test(type)
    ) {
      try {
        await c.req.parseBody();
      } catch {
        const message = "The form data could not be read; send it again.";
        return c.req.path.startsWith("/api/")
          ? apiError(c, 400, "malformed_body", message)
          : c.text(message, 400);
      }
    }
    await next();
  });
  app.use(
    workspace({
      secureCookie: (url) =>
        new URL(url).protocol === "https:" || config.trustProxy,
    }),
  );
  // A page served where a key would travel unencrypted shows no key field at
  // all: refusing the key on arrival would be too late (K7).
  app.use(async function keyTransport(c, next) {
    c.set("keyBlocked", keyTransportProblem(c, config.trustProxy));
    await next();
  });

  // Per-client limits on the requests that carry a key (core/limits.ts).
  const limits = deps.rateLimits ?? createRateLimits();
  const proxy = { trustProxy: config.trustProxy };
  app.on(
    "POST",
    ["/keys/validate", "/api/keys/validate"],
    rateLimited(limits.keyChecks, "key checks", proxy),
  );
  app.on(
    "POST",
    ["/batches/:id/run", "/api/batches/:id/run"],
    rateLimited(limits.runStarts, "runs started", proxy),
  );

  app.route("/api", apiRoutes(deps));
  app.route("/", keyRoutes(deps));
  app.route("/", runRoutes(deps));
  app.route("/", imageRoutes(deps));
  app.route("/", batchRoutes(deps));
  app.route("/", pageRoutes());

  app.notFound((c) =>
    c.req.path.startsWith("/api/")
      ? apiError(c, 404, "not_found", "No such API route.")
      : notFoundPage(c)
  );
  app.onError((error, c) => {
    if (error instanceof HTTPException && error.res) {
      // An exception that carries its own answer (Basic auth's 401).
      return error.getResponse();
    }
    if (error instanceof HTTPException && error.status < 500) {
      // Hono's own 4xx (unreadable body, bad JSON): say so, never a 500.
      const message =
        "The request could not be read: check its body and Content-Type.";
      return c.req.path.startsWith("/api/")
        ? apiError(c, error.status, "bad_request", message)
        : c.text(message, error.status);
    }
    log.error("request failed", { path: c.req.path, error: scrubError(error) });
    return c.req.path.startsWith("/api/")
      ? apiError(
        c,
        500,
        "internal",
        "Something went wrong on the server; see its log.",
      )
      : errorPage(c);
  });
  return app;
}
