/**
 * The one result shape of BatchGen's rules: a value, or a problem that says
 * what went wrong in words a user can act on. A problem carries a code, never
 * an HTTP status: the web edge maps codes to statuses in one place
 * (http/problem.ts), and the CLI maps them to exit codes.
 */

/** Every reason a rule can refuse, named once. */
export const PROBLEM_CODES = [
  "invalid_input",
  "invalid_budget",
  "budget_unenforceable",
  "missing_key",
  "insecure_transport",
  "key_rejected",
  "google_error",
  "google_unreachable",
  "too_many_running",
  "quota_exceeded",
  "server_busy",
  "already_running",
  "running",
  "not_found",
  "malformed_json",
  "malformed_body",
  "body_too_large",
  "unsupported_media_type",
  "bad_cursor",
  "bad_request",
  "rate_limited",
  "cross_origin",
  "unknown_host",
  "unauthorized",
  "unknown_workspace",
  "ambiguous_workspace",
  "internal",
] as const;
export type ProblemCode = typeof PROBLEM_CODES[number];

/** What went wrong; `message` is already scrubbed and says what to do. */
export interface Problem {
  code: ProblemCode;
  message: string;
  /** Field name → message, for input that failed validation. */
  fields?: Record<string, string>;
  /** For `rate_limited`: when to try again. */
  retryAfterSeconds?: number;
}

export type Result<T> = { ok: true; value: T } | {
  ok: false;
  problem: Problem;
};

/** A refused result. */
export function refuse<T = never>(
  code: ProblemCode,
  message: string,
  extra: Omit<Problem, "code" | "message"> = {},
): Result<T> {
  return { ok: false, problem: { code, message, ...extra } };
}
