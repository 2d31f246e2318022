/**
 * What a thrown error becomes: an exception that carries its own answer
 * (Basic auth's 401) keeps it; Hono's own 4xx (an unreadable body) is the
 * client's mistake, never a 500; anything else is logged, scrubbed, and
 * answered without details.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./env.ts";
import type { Logger } from "../lib/log.ts";
import { scrubError } from "../core/scrub.ts";
import { isApiRequest, problemResponse } from "./problem.ts";
import { errorPage } from "./pages/static_pages.tsx";

/** Answers `error` thrown while serving `c`. */
export function answerError(
  error: Error,
  c: Context<AppEnv>,
  log: Logger,
): Response | Promise<Response> {
  if (error instanceof HTTPException && error.res) return error.getResponse();
  if (error instanceof HTTPException && error.status < 500) {
    return problemResponse(c, {
      code: "bad_request",
      message:
        "The request could not be read: check its body and Content-Type.",
    });
  }
  log.error("request failed", { path: c.req.path, error: scrubError(error) });
  return isApiRequest(c)
    ? problemResponse(c, {
      code: "internal",
      message: "Something went wrong on the server; see its log.",
    })
    : errorPage(c);
}
