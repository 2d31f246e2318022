/**
 * A batch run as a settings matrix, laid out like an X/Y plot: one row per
 * prompt, one column per combination of the varied settings, each cell the
 * tiles of that prompt with those settings (still swapped live by id).
 */
import type { Image, Item } from "../../core/records.ts";
import { findModel } from "../../core/catalog.ts";
import { Tile } from "./tile.tsx";

const AXIS_NAMES: Record<string, string> = {
  model: "Model",
  aspectRatio: "Aspect ratio",
  imageSize: "Size",
};

/** "Nano Banana Pro · 16:9": a column's heading. */
export function axisLabel(axis: Record<string, string> | null): string {
  if (!axis) return "";
  return Object.entries(axis).map(([key, value]) =>
    key === "model" ? findModel(value)?.label ?? value : value
  ).join(" · ");
}

/** Whether the items vary by a matrix (so a compare grid means something). */
export function hasMatrix(items: readonly Item[]): boolean {
  return items.some((item) => item.axis !== null);
}

export interface CompareGridProps {
  batchId: string;
  items: readonly Item[];
  imageByItem: ReadonlyMap<string, Image>;
}

/** The compare grid; columns in the order the matrix made them. */
export function CompareGrid({ batchId, items, imageByItem }: CompareGridProps) {
  const columns = [...new Set(items.map((i) => JSON.stringify(i.axis)))];
  const rowKey = (i: Item) =>
    JSON.stringify([
      i.row,
      i.prompt,
      i.references,
      i.name?.replace(/-\d+$/, ""),
    ]);
  const rows = new Map<string, Item[]>();
  for (const item of items) {
    const key = rowKey(item);
    rows.set(key, [...(rows.get(key) ?? []), item]);
  }
  const axes = Object.keys(items.find((i) => i.axis)?.axis ?? {});
  return (
    <div
      class="compare-wrap"
      role="region"
      tabindex={0}
      aria-label="Compare grid"
    >
      <table class="compare">
        <caption>
          Columns: {axes.map((a) => AXIS_NAMES[a] ?? a).join(" × ")}
        </caption>
        <thead>
          <tr>
            <th scope="col">Prompt</th>
            {columns.map((c) => <th scope="col">{axisLabel(JSON.parse(c))}
            </th>)}
          </tr>
        </thead>
        <tbody>
          {[...rows.values()].map((cells) => (
            <tr>
              <th scope="row">
                {cells[0]!.prompt}
                {cells[0]!.row !== null && (
                  <>
                    {" "}
                    <small class="hint">(row {cells[0]!.row})</small>
                  </>
                )}
              </th>
              {columns.map((c) => (
                <td>
                  {cells.filter((i) => JSON.stringify(i.axis) === c).map((
                    item,
                  ) => (
                    <Tile
                      item={item}
                      image={imageByItem.get(item.id)}
                      batchId={batchId}
                    />
                  ))}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
