/** [status] The batch and item state machine, table by table. */
import assert from "node:assert/strict";
import {
  afterRun,
  batchCounts,
  batchStatusFrom,
  countStatuses,
  failedFields,
  IN_RUN,
  isStopped,
  parseRunMode,
  runnableStatuses,
  type StatusCounts,
  succeededFields,
} from "./status.ts";
import { ITEM_STATUSES, type ItemStatus } from "./records.ts";

Deno.test("[status] which items a run picks up, by mode", () => {
  const table: [ItemStatus, boolean, boolean][] = [
    // status        resume  retry
    ["pending", true, true],
    ["running", true, true],
    ["interrupted", true, true],
    ["cancelled", true, true],
    ["failed", false, true],
    ["blocked", false, true],
    ["succeeded", false, false],
    // At Google (Batch mode): only a sync moves it.
    ["submitted", false, false],
  ];
  assert.deepEqual(
    table.map(([s]) => s).sort(),
    [...ITEM_STATUSES].sort(),
    "every item status is in the table",
  );
  for (const [status, resume, retry] of table) {
    assert.equal(runnableStatuses("resume").includes(status), resume, status);
    assert.equal(runnableStatuses("retry").includes(status), retry, status);
  }
});

Deno.test("[status] ?mode= reads retry, anything else resumes", () => {
  assert.equal(parseRunMode("retry"), "retry");
  for (const other of [undefined, "", "resume", "RETRY", "all"]) {
    assert.equal(parseRunMode(other), "resume");
  }
});

Deno.test("[status] a batch's status from its items", () => {
  const table: [StatusCounts, boolean, string][] = [
    [{ pending: 3 }, false, "draft"],
    [{ pending: 3 }, true, "running"],
    [{ running: 1, succeeded: 2 }, false, "running"],
    [{ succeeded: 3 }, false, "done"],
    [{ succeeded: 2, failed: 1 }, false, "partial"],
    [{ succeeded: 2, blocked: 1 }, false, "partial"],
    [{ failed: 2, blocked: 1 }, false, "failed"],
    [{ succeeded: 1, pending: 2 }, false, "draft"],
    [{ succeeded: 1, interrupted: 2 }, false, "interrupted"],
    [{ succeeded: 1, cancelled: 1, failed: 1 }, false, "cancelled"],
    [{ interrupted: 1, cancelled: 1 }, false, "interrupted"],
    [{ submitted: 2, succeeded: 1 }, false, "submitted"],
    [{ submitted: 2, interrupted: 1 }, false, "submitted"],
    [{ submitted: 1 }, true, "running"],
    [{}, false, "done"],
  ];
  for (const [counts, running, expected] of table) {
    assert.equal(
      batchStatusFrom(counts, { running }),
      expected,
      `${JSON.stringify(counts)} running=${running}`,
    );
  }
});

Deno.test("[status] counts: blocked items count as failed, open ones as neither", () => {
  const items = [
    "succeeded",
    "succeeded",
    "failed",
    "blocked",
    "pending",
    "interrupted",
  ].map((status) => ({ status: status as ItemStatus }));
  const counts = countStatuses(items);
  assert.deepEqual(batchCounts(counts), {
    total: 6,
    succeeded: 2,
    failed: 2,
    blocked: 1,
  });
});

Deno.test("[status] an item's fields when it succeeds or finally fails", () => {
  const now = new Date(0);
  assert.deepEqual(succeededFields(now), {
    status: "succeeded",
    finishedAt: now,
    errorKind: null,
    errorMessage: null,
  });
  assert.equal(
    failedFields({ kind: "blocked", message: "m" }, now).status,
    "blocked",
  );
  for (const kind of ["server", "timeout", "no-image", "storage"]) {
    const fields = failedFields({ kind, message: "why" }, now);
    assert.equal(fields.status, "failed", kind);
    assert.equal(fields.errorKind, kind);
    assert.equal(fields.errorMessage, "why");
  }
});

Deno.test("[status] where a run's open items go when it ends, and what the batch says", () => {
  const table: [
    string,
    Parameters<typeof afterRun>[0],
    string | null,
    RegExp | null,
  ][] = [
    ["clean finish", { stopMessage: null, exitCode: 0 }, null, null],
    [
      "Cancel",
      { abortReason: "cancelled", stopMessage: null, exitCode: 137 },
      "cancelled",
      /^Cancelled\. .*Resume/,
    ],
    [
      "tab closed",
      { abortReason: "disconnected", stopMessage: null, exitCode: 137 },
      "interrupted",
      /page was closed.*Resume/,
    ],
    [
      "server shutdown",
      { abortReason: "shutdown", stopMessage: null, exitCode: 137 },
      "interrupted",
      /BatchGen was stopped.*Resume/,
    ],
    [
      "an unknown abort reason",
      { abortReason: new Error("x"), stopMessage: null, exitCode: 1 },
      "interrupted",
      /page was closed/,
    ],
    [
      "generator stopped the batch (quota)",
      { stopMessage: "Google's quota is used up.", exitCode: 0 },
      "interrupted",
      /^Google's quota is used up\.$/,
    ],
    [
      "generator crashed",
      { stopMessage: null, exitCode: 1 },
      "interrupted",
      /exited with code 1.*Resume/,
    ],
  ];
  for (const [name, end, to, message] of table) {
    const result = afterRun(end);
    assert.equal(result.openItemsBecome, to, name);
    if (message) assert.match(result.message ?? "", message, name);
    else assert.equal(result.message, null, name);
  }
});

Deno.test("[status] open and stopped items", () => {
  assert.deepEqual([...IN_RUN].sort(), ["pending", "running"]);
  for (const status of ITEM_STATUSES) {
    assert.equal(
      isStopped({ status }),
      status === "interrupted" || status === "cancelled",
      status,
    );
  }
});
