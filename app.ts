/** Builds the Hono app from its dependencies; no I/O on import. */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { csrf } from "hono/csrf";
import { secureHeaders } from "hono/secure-headers";
import type { AppDeps, AppEnv } from "./app_env.ts";
import { LIMITS } from "./lib/limits.ts";
import { isHttps } from "./lib/transport.ts";
import { workspace } from "./lib/workspace.ts";
import { scrubError } from "./lib/scrub.ts";
import { apiError, apiRoutes } from "./routes/api.ts";
import { batchRoutes } from "./routes/batches.tsx";
import { imageRoutes } from "./routes/images.ts";
import { keyRoutes } from "./routes/keys.tsx";
import { runRoutes } from "./routes/runs.tsx";
import { staticRoutes } from "./routes/static.ts";
import { errorPage, notFoundPage, pageRoutes } from "./routes/pages.tsx";

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
    // nothing but static assets and images may be cached.
    if (!c.res.headers.has("cache-control")) {
      c.header("Cache-Control", "no-store");
    }
  });
  app.route("/", staticRoutes());
  app.use(csrf());
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
  app.use(
    workspace({
      secureCookie: (url) =>
        new URL(url).protocol === "https:" || config.trustProxy,
    }),
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
    const status =
      "getResponse" in error && typeof error.getResponse === "function"
        ? (error.getResponse() as Response).status
        : 500;
    if (status < 500) {
      return c.req.path.startsWith("/api/")
        ? apiError(
          c,
          status as 400,
          "bad_request",
          "The request could not be read.",
        )
        : c.text("The request could not be read.", status as 400);
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
