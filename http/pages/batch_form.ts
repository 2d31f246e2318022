/**
 * Reads the new-batch form (prompts typed or uploaded as a table, reference
 * images, wildcard lists, template and matrix options) into the raw input
 * every edge hands the one validator (core/batch_plan.ts).
 */
import type { Context } from "hono";
import { PromptFileError, splitPromptLines } from "../../core/prompt_file.ts";
import { readTableFile } from "../../core/table_file.ts";
import { readWildcardFile } from "../../core/templates.ts";
import type { ReferenceInfo } from "../../core/batch_plan.ts";
import { newId } from "../../db/ids.ts";
import {
  type CheckedReference,
  checkReferenceImage,
} from "../../lib/reference_store.ts";
import { LIMITS } from "../../core/limits.ts";
import type { BatchFormValues } from "../../views/pages/new_batch_page.tsx";

/** A reference image uploaded with the form, checked but not yet stored. */
export interface FormReference {
  info: ReferenceInfo;
  facts: CheckedReference;
  bytes: Uint8Array;
}

export interface BatchForm {
  values: BatchFormValues;
  raw: Record<string, unknown>;
  /** Problems with the uploaded files, by field. */
  fileErrors: Record<string, string>;
  references: FormReference[];
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function files(value: unknown): File[] {
  const list = Array.isArray(value) ? value : [value];
  return list.filter((f): f is File => f instanceof File && f.size > 0);
}

function texts(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.filter((v): v is string => typeof v === "string" && v !== "");
}

/** "1:1, 16:9" → ["1:1", "16:9"]. */
function listOf(value: string | undefined): string[] {
  return (value ?? "").split(/[\s,;]+/).filter(Boolean);
}

const blankToUndefined = (v: string | number | undefined) =>
  v === undefined || String(v).trim() === "" ? undefined : String(v);

/** Parses the form body; numbers stay strings for the validator to read. */
export async function readBatchForm(c: Context): Promise<BatchForm> {
  const body = await c.req.parseBody({ all: true });
  const one = (name: string) =>
    text(Array.isArray(body[name]) ? (body[name] as unknown[])[0] : body[name]);
  const values: BatchFormValues = {
    title: one("title"),
    prompts: one("prompts"),
    model: one("model"),
    aspectRatio: one("aspectRatio"),
    imageSize: one("imageSize"),
    imagesPerPrompt: one("imagesPerPrompt"),
    concurrency: one("concurrency"),
    budgetUsd: one("budgetUsd"),
    mode: one("mode"),
    expandTemplates: one("expandTemplates") !== undefined,
    eachReference: one("eachReference") !== undefined,
    sampleCount: one("sampleCount"),
    sampleSeed: one("sampleSeed"),
    matrixModel: texts(body.matrixModel),
    matrixAspectRatio: one("matrixAspectRatio"),
    matrixImageSize: one("matrixImageSize"),
  };
  const fileErrors: Record<string, string> = {};
  const rows: Record<string, unknown>[] = splitPromptLines(values.prompts ?? "")
    .map((prompt, i) => ({ row: i + 1, prompt }));
  const table = files(body.promptsFile)[0];
  let rowsNameReferences = false;
  if (table) {
    try {
      const offset = rows.length;
      for (
        const { row, ...cells } of readTableFile({
          name: table.name,
          type: table.type,
          bytes: new Uint8Array(await table.arrayBuffer()),
        })
      ) {
        if (cells.references !== undefined) rowsNameReferences = true;
        rows.push({ ...dropUndefined(cells), row: row + offset });
      }
    } catch (error) {
      if (!(error instanceof PromptFileError)) throw error;
      fileErrors.promptsFile = error.message;
    }
  }
  const references: FormReference[] = [];
  const images = files(body.references);
  if (images.length > LIMITS.referencesPerUpload) {
    fileErrors.references =
      `Upload at most ${LIMITS.referencesPerUpload} reference images (${images.length} chosen).`;
  } else {
    const refused: string[] = [];
    for (const file of images) {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const checked = await checkReferenceImage(file.name, bytes);
      if (!checked.ok) {
        refused.push(checked.problem.message);
        continue;
      }
      const facts = checked.value;
      references.push({
        info: {
          id: newId(),
          name: facts.name,
          mimeType: facts.mimeType,
          bytes: facts.bytes,
          sha256: facts.sha256,
        },
        facts,
        bytes,
      });
    }
    if (refused.length > 0) fileErrors.references = refused.join(" ");
  }
  const wildcards: Record<string, string[]> = {};
  for (const file of files(body.wildcardFiles)) {
    const read = readWildcardFile(
      file.name,
      new Uint8Array(await file.arrayBuffer()),
    );
    if (read.ok) Object.assign(wildcards, read.value);
    else fileErrors.wildcardFiles = `${file.name}: ${read.problem.message}`;
  }
  const matrix = {
    ...(values.matrixModel!.length > 0 ? { model: values.matrixModel } : {}),
    ...(listOf(values.matrixAspectRatio).length > 0
      ? { aspectRatio: listOf(values.matrixAspectRatio) }
      : {}),
    ...(listOf(values.matrixImageSize).length > 0
      ? { imageSize: listOf(values.matrixImageSize) }
      : {}),
  };
  const sampleCount = blankToUndefined(values.sampleCount);
  return {
    values,
    fileErrors,
    references,
    raw: {
      title: values.title ?? "",
      // Plain prompts when no row has settings of its own: messages then
      // speak of prompts, as for the JSON API's `prompts`.
      ...(rows.every((r) => Object.keys(r).length === 2)
        ? { prompts: rows.map((r) => r.prompt) }
        : { rows }),
      model: values.model,
      aspectRatio: values.aspectRatio,
      imageSize: values.imageSize,
      imagesPerPrompt: blankToUndefined(values.imagesPerPrompt),
      concurrency: blankToUndefined(values.concurrency),
      budgetUsd: blankToUndefined(values.budgetUsd),
      mode: values.mode === "batch" ? "batch" : "standard",
      // Rows that name their references pick from the uploads; otherwise
      // every row gets every upload (or one row per upload, "each image").
      references: rowsNameReferences && !values.eachReference
        ? []
        : references.map((r) => r.info.id),
      eachReference: values.eachReference,
      expandTemplates: values.expandTemplates || sampleCount !== undefined,
      wildcards,
      ...(sampleCount === undefined ? {} : {
        sample: {
          count: sampleCount,
          seed: blankToUndefined(values.sampleSeed) ?? 1,
        },
      }),
      ...(Object.keys(matrix).length > 0 ? { matrix } : {}),
    },
  };
}

function dropUndefined(
  cells: Record<string, unknown>,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(cells).filter(([, v]) => v !== undefined),
  );
}
