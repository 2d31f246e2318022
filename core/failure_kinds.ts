/**
 * Why an item or a batch did not succeed. Zod-free, so the generator child's
 * checks (protocol_check.ts) and the schemas (protocol.ts) share one list.
 */
export const FAILURE_KINDS = [
  "blocked",
  "no-image",
  "invalid-request",
  "auth",
  "quota",
  "rate-limited",
  "server",
  "timeout",
  "network",
  "malformed",
  "storage",
  /** The batch's budget cap stopped the run (never an item's failure). */
  "budget",
] as const;
export type FailureKind = typeof FAILURE_KINDS[number];
