/**
 * The steps of planning one row: the matrix's cells, the settings a row ends
 * up with (its own, the matrix's, else the batch's) checked against its
 * model, and file-name stems made unique.
 */
import {
  findModel,
  imageSizeOrDefault,
  type ModelInfo,
  sizeChoices,
} from "./catalog.ts";
import type { Matrix } from "./records.ts";
import type { BatchInput } from "./batch_input.ts";
import type { RowInput } from "./batch_row.ts";
import type { ImageMimeType } from "./files.ts";
import type { RowSettings } from "./records.ts";

/** What a row needs to know of a reference image. */
export interface ReferenceInfo {
  id: string;
  name: string;
  mimeType: ImageMimeType;
  bytes: number;
  sha256: string;
}

/** Finds a reference by id (or, for the form's uploads, by file name). */
export type ReferenceLookup = (idOrName: string) => ReferenceInfo | undefined;

/** One row of a planned batch: a prompt, its settings and its image count. */
export interface PlannedRow extends RowSettings {
  prompt: string;
  images: number;
}

/** Messages a refusal lists at most. */
export const MAX_MESSAGES = 5;

export interface Draft {
  source: RowInput;
  prompt: string;
  template: string | null;
  choices: string[] | null;
  references: ReferenceInfo[];
  name: string | null;
  axis: Record<string, string> | null;
}

/** Every combination of the matrix's values (one empty cell without one). */
export function matrixCells(
  matrix: Matrix | undefined,
): Record<string, string>[] {
  let cells: Record<string, string>[] = [{}];
  for (const axis of ["model", "aspectRatio", "imageSize"] as const) {
    const values = [...new Set(matrix?.[axis] ?? [])];
    if (values.length === 0) continue;
    cells = cells.flatMap((cell) =>
      values.map((v) => ({ ...cell, [axis]: v }))
    );
  }
  return cells;
}

export function finishRow(
  d: Draft,
  input: BatchInput,
  problems: Set<string>,
): PlannedRow {
  const { source, axis } = d;
  const modelId = axis?.model ?? source.model ?? input.model;
  const model = findModel(modelId)!;
  const aspectRatio = axis?.aspectRatio ?? source.aspectRatio ??
    input.aspectRatio;
  const size = axis?.imageSize ?? source.imageSize ?? input.imageSize;
  const where = axis
    ? `row ${source.row} (matrix: ${
      Object.entries(axis).map(([k, v]) =>
        k === "model" ? findModel(v)?.label ?? v : v
      ).join(", ")
    })`
    : `row ${source.row}`;
  if (problems.size < MAX_MESSAGES) {
    const problem = settingProblem(
      model,
      aspectRatio,
      size,
      d.references.length,
    );
    if (problem) problems.add(`${where}: ${problem}`);
  }
  return {
    prompt: d.prompt,
    model: model.id,
    aspectRatio,
    imageSize: imageSizeOrDefault(model.id, size),
    images: source.imagesPerPrompt ?? input.imagesPerPrompt,
    name: d.name,
    row: source.row,
    template: d.template,
    choices: d.choices,
    axis,
    references: d.references.map((r) => r.id),
  };
}

/** What a row's model does not offer, in words; undefined when all fits. */
function settingProblem(
  model: ModelInfo,
  aspectRatio: string,
  size: string,
  references: number,
): string | undefined {
  if (!model.aspectRatios.includes(aspectRatio)) {
    return `aspect ratio ${
      aspectRatio.slice(0, 20)
    } is not offered by ${model.label} (it offers ${
      model.aspectRatios.join(", ")
    }).`;
  }
  const sizes = sizeChoices(model);
  if (size && !sizes.includes(size)) {
    return `size ${
      size.slice(0, 20)
    } is not offered by ${model.label} (it offers ${sizes.join(", ")}).`;
  }
  if (references > model.maxReferences) {
    return `${model.label} takes at most ${model.maxReferences} reference images (this row has ${references}).`;
  }
  return undefined;
}

/** Rows expanded from one name get numbered stems: shoe-1, shoe-2, … */
export function uniqueNames(rows: PlannedRow[]): void {
  const counts = new Map<string, number>();
  for (const r of rows) {
    if (r.name) counts.set(r.name, (counts.get(r.name) ?? 0) + 1);
  }
  const seen = new Map<string, number>();
  for (const r of rows) {
    if (!r.name || (counts.get(r.name) ?? 0) < 2) continue;
    const n = (seen.get(r.name) ?? 0) + 1;
    seen.set(r.name, n);
    r.name = `${r.name}-${n}`;
  }
}
