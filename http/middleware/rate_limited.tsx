/**
 * Answers 429 (with `Retry-After`) when a client sends too many key checks or
 * run starts; a fragment for the page, a JSON error for the API.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";
import { clientBucket, type RateLimiter } from "./rate_limit.ts";
import { RunRefused } from "../../views/components/run_starter.tsx";
import { KeyStatusMessage } from "../../views/components/key_status.tsx";
import { apiProblem, isApiRequest, statusOf } from "../problem.ts";
import type { Problem } from "../../core/result.ts";

/** Counts each request against `limiter`; `what` names them in the message. */
export function rateLimited(limiter: RateLimiter, what: string) {
  return createMiddleware<AppEnv>(async function rateLimited(c, next) {
    const client = clientBucket(c.var.transport.clientAddress);
    const decision = limiter.take(client);
    if (decision.ok) return await next();
    const seconds = decision.retryAfterSeconds;
    const problem: Problem = {
      code: "rate_limited",
      message:
        `Too many ${what} from your address: at most ${limiter.limit} a minute. ` +
        `Try again in ${seconds} s.`,
      retryAfterSeconds: seconds,
    };
    c.header("Retry-After", String(seconds));
    c.header("Cache-Control", "no-store");
    if (isApiRequest(c)) return apiProblem(c, problem);
    const batchId = c.req.param("id");
    return c.html(
      batchId
        ? <RunRefused batchId={batchId} message={problem.message} />
        : <KeyStatusMessage ok={false} message={problem.message} />,
      statusOf(problem.code),
    );
  });
}
