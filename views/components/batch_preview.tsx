/**
 * The form's preview of what Generate will make: totals, the estimate by
 * model, and the first rows after expansion, each with its settings.
 */
import { findModel } from "../../core/catalog.ts";
import { COST_LABEL, formatUsd, type RowsEstimate } from "../../core/cost.ts";
import type { PlannedRow } from "../../core/batch_plan.ts";

/** Rows the preview lists; the rest are counted. */
export const PREVIEW_ROWS = 50;

export interface BatchPreviewProps {
  rows: readonly PlannedRow[];
  estimate: RowsEstimate;
  /** Reference names by id, to show what each row sends. */
  referenceNames: ReadonlyMap<string, string>;
}

function label(model: string): string {
  return findModel(model)?.label ?? model;
}

/** Whether the rows differ from plain prompts with the form's settings. */
function hasDetail(rows: readonly PlannedRow[]): boolean {
  const first = rows[0];
  return rows.length > 1 &&
      rows.some((r) =>
        r.model !== first?.model || r.aspectRatio !== first.aspectRatio ||
        r.imageSize !== first.imageSize || r.images !== first.images ||
        r.template !== null || r.references.length > 0 || r.name !== null
      ) || rows.some((r) => r.references.length > 0 || r.template !== null);
}

/** The preview table and totals. */
export function BatchPreview(
  { rows, estimate, referenceNames }: BatchPreviewProps,
) {
  const shown = rows.slice(0, PREVIEW_ROWS);
  return (
    <div class="preview">
      {estimate.byModel.length > 1 && (
        <ul class="preview-models" aria-label="Estimate by model">
          {estimate.byModel.map((m) => (
            <li>
              {label(m.model)}: {m.images} image{m.images === 1 ? "" : "s"},
              {" "}
              {formatUsd(m.totalUsd)}
            </li>
          ))}
        </ul>
      )}
      {hasDetail(rows) && (
        <div
          class="preview-table-wrap"
          tabindex={0}
          role="region"
          aria-label="Rows to generate"
        >
          <table class="preview-table">
            <caption>
              {rows.length > PREVIEW_ROWS
                ? `First ${PREVIEW_ROWS} of ${rows.length} rows`
                : `${rows.length} row${rows.length === 1 ? "" : "s"}`}
            </caption>
            <thead>
              <tr>
                <th scope="col">Row</th>
                <th scope="col">Prompt</th>
                <th scope="col">Model</th>
                <th scope="col">Ratio · size</th>
                <th scope="col">Images</th>
                <th scope="col">References</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => (
                <tr>
                  <td class="preview-row" data-label="Row">{r.row ?? ""}</td>
                  <td class="preview-prompt">
                    {r.prompt}
                    {r.name && (
                      <>
                        {" "}
                        <small class="hint" title="File name">→ {r.name}</small>
                      </>
                    )}
                  </td>
                  <td class="preview-model">{label(r.model)}</td>
                  <td class="preview-settings">
                    {r.aspectRatio} · {r.imageSize}
                  </td>
                  <td class="preview-images" data-label="Images">{r.images}</td>
                  <td class="preview-refs" data-label="References">
                    {r.references.map((id) => referenceNames.get(id) ?? id)
                      .join(", ")}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p class="hint" title={COST_LABEL}>
        {rows.length} row{rows.length === 1 ? "" : "s"} after expansion.
      </p>
    </div>
  );
}
