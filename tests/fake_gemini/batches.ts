/**
 * Minimal Batch API (§2.6): create answers PENDING, the next get answers
 * SUCCEEDED with inlined responses keyed by `metadata.key`. BatchGen does not
 * use batches yet, so this only has to have the right shapes.
 */
import { modelNotFoundError } from "./errors.ts";
import { answerPlan } from "./generate.ts";
import { planGenerate } from "./validate.ts";
import { googleError, isRecord, type Outcome } from "./http.ts";
import { parseMarkers } from "./scenarios.ts";
import type { FakeState } from "./state.ts";

const BATCH_TYPE =
  "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch";
const OUTPUT_TYPE =
  "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput";

/** One stored batch job. */
export interface BatchJob {
  id: string;
  version: string;
  model: string;
  displayName: string;
  createTime: string;
  rows: { request: unknown; metadata: unknown }[];
}

/** `POST /{v}/models/{m}:batchGenerateContent` with inline requests. */
export function createBatch(
  state: FakeState,
  version: string,
  modelId: string,
  body: unknown,
): Outcome {
  if (!state.models.some((m) => m.id === modelId)) {
    return modelNotFoundError(modelId, version, "batchGenerateContent");
  }
  const batch = isRecord(body) && isRecord(body.batch) ? body.batch : {};
  const input = isRecord(batch.inputConfig) ? batch.inputConfig : {};
  const wrapper = isRecord(input.requests) ? input.requests : {};
  if (!Array.isArray(wrapper.requests)) {
    return googleError(
      400,
      "* BatchGenerateContentRequest.batch.input_config: input_config is not specified\n",
    );
  }
  const job: BatchJob = {
    id: crypto.randomUUID().replaceAll("-", "").slice(0, 20),
    version,
    model: modelId,
    displayName: typeof batch.displayName === "string" ? batch.displayName : "",
    createTime: new Date().toISOString(),
    rows: wrapper.requests.map((row) => ({
      request: isRecord(row) ? row.request : undefined,
      metadata: isRecord(row) ? row.metadata : undefined,
    })),
  };
  state.batches.set(job.id, job);
  const count = String(job.rows.length);
  return {
    status: 200,
    body: {
      name: `batches/${job.id}`,
      metadata: {
        ...jobMetadata(job, "BATCH_STATE_PENDING"),
        batchStats: { requestCount: count, pendingRequestCount: count },
      },
    },
  };
}

/** `GET /{v}/batches/{id}`: every get after create finds the job done. */
export async function getBatch(state: FakeState, id: string): Promise<Outcome> {
  const job = state.batches.get(id);
  if (!job) return googleError(404, "Requested entity was not found.");
  const responses = [];
  let failed = 0;
  for (const row of job.rows) {
    const outcome = await answerRow(state, job, row.request);
    if (outcome.status !== 200) failed++;
    const body = outcome.body;
    responses.push(
      outcome.status === 200
        ? { response: body, metadata: row.metadata }
        : { error: isRecord(body) ? body.error : body, metadata: row.metadata },
    );
  }
  const output = { inlinedResponses: { inlinedResponses: responses } };
  const now = new Date().toISOString();
  return {
    status: 200,
    body: {
      name: `batches/${job.id}`,
      metadata: {
        ...jobMetadata(job, "BATCH_STATE_SUCCEEDED"),
        updateTime: now,
        endTime: now,
        batchStats: {
          requestCount: String(job.rows.length),
          successfulRequestCount: String(job.rows.length - failed),
          failedRequestCount: String(failed),
        },
        output,
      },
      done: true,
      // Google duplicates the output here (discuss.ai.google.dev thread 174261).
      response: { "@type": OUTPUT_TYPE, ...output },
    },
  };
}

function jobMetadata(job: BatchJob, state: string) {
  return {
    "@type": BATCH_TYPE,
    model: `models/${job.model}`,
    displayName: job.displayName,
    createTime: job.createTime,
    updateTime: job.createTime,
    state,
  };
}

/** Rows skip quotas, faults and latency; block and text markers still apply. */
async function answerRow(state: FakeState, job: BatchJob, request: unknown) {
  const result = planGenerate(state, job.version, job.model, request);
  if (!result.ok) return result.outcome;
  const markers = { ...parseMarkers(result.plan.prompt), malformed: false };
  return await answerPlan(state, result.plan, markers);
}
