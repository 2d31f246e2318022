/**
 * The one mapping from a problem (core/result.ts) to an HTTP answer: its
 * status by code, JSON `{ error: { code, message } }` for the API, plain
 * text for anything else a middleware refuses. Whether a request is an API
 * request is decided here and nowhere else.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "./env.ts";
import { getBatch } from "../db/batch_queries.ts";
import type { Db } from "../db/client.ts";
import type { Batch } from "../core/records.ts";
import type { Problem, ProblemCode } from "../core/result.ts";

const STATUS: Record<ProblemCode, ContentfulStatusCode> = {
  invalid_input: 422,
  invalid_budget: 400,
  budget_unenforceable: 422,
  missing_key: 400,
  insecure_transport: 403,
  key_rejected: 422,
  google_error: 502,
  google_unreachable: 502,
  too_many_running: 409,
  quota_exceeded: 409,
  server_busy: 503,
  already_running: 409,
  running: 409,
  not_found: 404,
  malformed_json: 400,
  malformed_body: 400,
  body_too_large: 413,
  unsupported_media_type: 415,
  bad_cursor: 400,
  bad_request: 400,
  rate_limited: 429,
  cross_origin: 403,
  unknown_host: 421,
  unauthorized: 401,
  unknown_workspace: 401,
  ambiguous_workspace: 400,
  internal: 500,
};

/** The HTTP status a problem is answered with. */
export function statusOf(code: ProblemCode): ContentfulStatusCode {
  return STATUS[code];
}

/** Whether the request is to the JSON API (and so gets JSON errors). */
export function isApiRequest(c: Context): boolean {
  return c.req.path === "/api" || c.req.path.startsWith("/api/");
}

/** The API's error answer for a problem. */
export function apiProblem(c: Context, problem: Problem): Response {
  const { code, message, ...extra } = problem;
  if (problem.retryAfterSeconds !== undefined) {
    c.header("Retry-After", String(problem.retryAfterSeconds));
  }
  return c.json({ error: { code, message, ...extra } }, statusOf(code));
}

/** The API's error answer, from its parts. */
export function apiError(
  c: Context,
  code: ProblemCode,
  message: string,
  extra: Omit<Problem, "code" | "message"> = {},
): Response {
  return apiProblem(c, { code, message, ...extra });
}

/**
 * A refusal from a middleware, which serves the API and the pages alike:
 * JSON for the API, the message as plain text otherwise.
 */
export function problemResponse(c: Context, problem: Problem): Response {
  return isApiRequest(c)
    ? apiProblem(c, problem)
    : c.text(problem.message, statusOf(problem.code));
}

/**
 * Wraps a `/batches/:id…` API handler: it runs only for a batch of the
 * caller's workspace; any other id (unknown or another workspace's) answers
 * the same 404.
 */
export function withOwnBatch(
  { db }: { db: Db },
  handler: (c: Context<AppEnv>, batch: Batch) => Response | Promise<Response>,
) {
  return async (c: Context<AppEnv>) => {
    const batch = await getBatch(
      db,
      c.get("workspaceId"),
      c.req.param("id") ?? "",
    );
    if (!batch) {
      return apiError(
        c,
        "not_found",
        "There is no such batch in this workspace.",
      );
    }
    return await handler(c, batch);
  };
}
