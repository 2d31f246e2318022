/** The key of an API request: only from `x-goog-api-key`, only where it may travel (K7). */
import type { Context } from "hono";
import type { AppEnv } from "../env.ts";
import { parseApiKey } from "../../core/api_key.ts";
import { refuse, type Result } from "../../core/result.ts";

/** The key from `x-goog-api-key`, after the transport rule (K7). */
export function readApiKey(c: Context<AppEnv>): Result<string> {
  const transport = c.var.transport.keyProblem;
  if (transport) return refuse("insecure_transport", transport);
  const key = parseApiKey(c.req.header("x-goog-api-key"));
  if (!key.ok) {
    return refuse(
      key.problem.code,
      `${key.problem.message} Send it in the x-goog-api-key header.`,
    );
  }
  return key;
}
