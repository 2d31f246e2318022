/**
 * Answers 429 (with `Retry-After`) when a client sends too many key checks or
 * run starts; a fragment for the page, a JSON error for the API.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";
import { clientBucket, type RateLimiter } from "./rate_limit.ts";
import { clientAddress } from "./transport.ts";
import { RunRefused } from "../../views/components/run_starter.tsx";
import { apiError } from "../problem.ts";

/** Counts each request against `limiter`; `what` names them in the message. */
export function rateLimited(
  limiter: RateLimiter,
  what: string,
  { trustProxy }: { trustProxy: boolean },
) {
  return createMiddleware<AppEnv>(async function rateLimited(c, next) {
    const client = clientBucket(clientAddress(c, trustProxy));
    const decision = limiter.take(client);
    if (decision.ok) return await next();
    const seconds = decision.retryAfterSeconds;
    const message =
      `Too many ${what} from your address: at most ${limiter.limit} a minute. ` +
      `Try again in ${seconds} s.`;
    c.header("Retry-After", String(seconds));
    c.header("Cache-Control", "no-store");
    if (c.req.path.startsWith("/api/")) {
      return apiError(c, 429, "rate_limited", message, {
        retryAfterSeconds: seconds,
      });
    }
    const batchId = c.req.param("id");
    return batchId
      ? c.html(<RunRefused batchId={batchId} message={message} />, 429)
      : c.html(<p class="key-bad" role="alert">{message}</p>, 429);
  });
}
