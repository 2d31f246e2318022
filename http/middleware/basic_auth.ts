/**
 * Optional HTTP Basic authentication for the whole instance, with wrong
 * credentials throttled per client: after `limiter.limit` wrong tries in a
 * minute, the client gets 429 (even with the right password) until the
 * window passes, so a password cannot be guessed at network speed.
 */
import { createMiddleware } from "hono/factory";
import { basicAuth as honoBasicAuth } from "hono/basic-auth";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../env.ts";
import { clientBucket, type RateLimiter } from "./rate_limit.ts";
import { isApiRequest, problemResponse } from "../problem.ts";

const ASK =
  "This BatchGen asks for a user name and password (HTTP Basic authentication).";

/** Asks every request for `credentials`; counts wrong ones in `failures`. */
export function basicAuth(
  credentials: { username: string; password: string },
  failures: RateLimiter,
) {
  const check = honoBasicAuth({
    ...credentials,
    realm: "BatchGen",
    invalidUserMessage: (c) =>
      isApiRequest(c) ? { error: { code: "unauthorized", message: ASK } } : ASK,
  });
  return createMiddleware<AppEnv>(async function basicAuth(c, next) {
    const client = clientBucket(c.var.transport.clientAddress);
    const blocked = failures.peek(client);
    if (!blocked.ok) {
      c.header("Retry-After", String(blocked.retryAfterSeconds));
      return problemResponse(c, {
        code: "rate_limited",
        message:
          `Too many wrong passwords from your address. Try again in ${blocked.retryAfterSeconds} s.`,
        retryAfterSeconds: blocked.retryAfterSeconds,
      });
    }
    try {
      return await check(c, next);
    } catch (error) {
      // Only a wrong password counts; a first request without one is how
      // every browser starts.
      if (
        error instanceof HTTPException && error.status === 401 &&
        c.req.header("authorization")
      ) failures.take(client);
      throw error;
    }
  });
}
