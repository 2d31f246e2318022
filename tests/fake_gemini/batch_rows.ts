/**
 * Runs one batch row through the same checks and answers as
 * generateContent: reference files must exist and be ACTIVE, the request is
 * validated for the job's model, and the prompt markers apply. Rows skip
 * rate limits, seeded faults and latency (Google queues batch work
 * instead), so `[slow:MS]` and `[malformed]` do nothing here.
 * An error the synchronous API would answer becomes the row's
 * google.rpc.Status, whose `code` is the gRPC code, not the HTTP one.
 */
import { dailyQuotaError, statusError } from "./errors.ts";
import { readReferences } from "./files.ts";
import { answerPlan } from "./generate.ts";
import { isRecord, type Outcome } from "./http.ts";
import { parseMarkers } from "./scenarios.ts";
import type { BatchJob, BatchRow, RowResult, RpcStatus } from "./batch_job.ts";
import type { FakeState } from "./state.ts";
import { planGenerate } from "./validate.ts";

/** google.rpc.Code by canonical name. */
const GRPC_CODES: Record<string, number> = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
};

/** Runs a row; records its reference images on it. */
export async function runRow(
  state: FakeState,
  job: BatchJob,
  row: BatchRow,
): Promise<RowResult> {
  if (row.problem) return { error: row.problem };
  const references = await readReferences(state, row.request);
  row.inputImages = references.images;
  if (references.problem) return toResult(references.problem);
  const result = planGenerate(state, job.version, job.model, row.request);
  if (!result.ok) return toResult(result.outcome);
  const { plan } = result;
  const markers = { ...parseMarkers(plan.prompt), malformed: false };
  if (markers.dailyQuota) return toResult(dailyQuotaError(plan.model.id));
  if (markers.status !== undefined) {
    return toResult(statusError(markers.status, plan.model.id));
  }
  if (markers.fail) {
    // Shares the per-prompt count with generateContent, so a row that failed
    // once succeeds when the same prompt is sent again.
    const served = state.failures.get(plan.prompt) ?? 0;
    if (served < markers.fail.times) {
      state.failures.set(plan.prompt, served + 1);
      return toResult(statusError(markers.fail.status, plan.model.id));
    }
  }
  return toResult(await answerPlan(state, plan, markers));
}

function toResult(outcome: Outcome): RowResult {
  if (outcome.status === 200) return { response: outcome.body };
  return { error: toStatus(outcome) };
}

/** Google's HTTP error envelope as the google.rpc.Status it stands for. */
export function toStatus(outcome: Outcome): RpcStatus {
  const error = isRecord(outcome.body) && isRecord(outcome.body.error)
    ? outcome.body.error
    : {};
  const name = typeof error.status === "string" ? error.status : "UNKNOWN";
  const status: RpcStatus = {
    code: GRPC_CODES[name] ?? GRPC_CODES.UNKNOWN!,
    message: String(error.message ?? ""),
  };
  if (Array.isArray(error.details)) status.details = error.details;
  return status;
}
