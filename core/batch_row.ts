/**
 * One row of a new batch as a file or a script gives it: a prompt and the
 * settings it overrides. Checked here cell by cell, with the row's number in
 * every message ("row 14: …"); whether the settings fit the row's model is
 * checked once the row's model is known (core/batch_plan.ts).
 */
import { LIMITS } from "./limits.ts";
import { findModel } from "./catalog.ts";
import { refuse, type Result } from "./result.ts";

/** A row after its cells were read; undefined cells take the batch's value. */
export interface RowInput {
  /** 1-based number of the row in its file or list. */
  row: number;
  prompt: string;
  model?: string;
  aspectRatio?: string;
  imageSize?: string;
  imagesPerPrompt?: number;
  name?: string;
  /** Reference image ids (or names uploaded with the form). */
  references?: string[];
}

/** The fields a row may have (`row` numbers it in messages). */
export const ROW_FIELDS = [
  "row",
  "prompt",
  "model",
  "aspectRatio",
  "imageSize",
  "imagesPerPrompt",
  "name",
  "references",
] as const;

const NAME_CHARS = 80;

/** Reads one raw row; a refusal names the row and the column. */
export function rowProblems(raw: unknown, index: number): Result<RowInput> {
  if (typeof raw === "string") {
    return { ok: true, value: { row: index, prompt: raw.trim() } };
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    return refuse(
      "invalid_input",
      `row ${index}: an object with a "prompt" expected.`,
    );
  }
  const cells = raw as Record<string, unknown>;
  const given = cells.row;
  const row =
    typeof given === "number" && Number.isSafeInteger(given) && given > 0
      ? given
      : index;
  const fail = (text: string) =>
    refuse<RowInput>("invalid_input", `row ${row}: ${text}`);
  const unknown = Object.keys(cells).find((k) =>
    !(ROW_FIELDS as readonly string[]).includes(k)
  );
  if (unknown) {
    return fail(
      `unknown field "${unknown.slice(0, 40)}" (rows have ${
        ROW_FIELDS.slice(1).join(", ")
      }).`,
    );
  }
  const value: RowInput = { row, prompt: "" };
  if (typeof cells.prompt !== "string") return fail("the prompt must be text.");
  value.prompt = cells.prompt.trim();
  const text = (name: string, field: unknown): Result<string | undefined> => {
    if (field === undefined || field === null) {
      return { ok: true, value: undefined };
    }
    if (typeof field !== "string") {
      return fail(`${name} must be text.`) as Result<never>;
    }
    const trimmed = field.trim();
    return { ok: true, value: trimmed === "" ? undefined : trimmed };
  };
  const model = text("model", cells.model);
  if (!model.ok) return model;
  if (model.value !== undefined) {
    const id = model.value.replace(/^models\//, "");
    if (!findModel(id)) return fail(`unknown model "${id.slice(0, 80)}".`);
    value.model = id;
  }
  const ratio = text("aspect ratio", cells.aspectRatio);
  if (!ratio.ok) return ratio;
  value.aspectRatio = ratio.value;
  const size = text("size", cells.imageSize);
  if (!size.ok) return size;
  value.imageSize = size.value;
  const count = cells.imagesPerPrompt;
  if (count !== undefined && count !== null && count !== "") {
    const n = typeof count === "string" ? Number(count.trim()) : count;
    if (
      typeof n !== "number" || !Number.isInteger(n) || n < 1 ||
      n > LIMITS.imagesPerPrompt
    ) {
      return fail(
        `count must be a whole number from 1 to ${LIMITS.imagesPerPrompt} (got ${
          String(count).slice(0, 20)
        }).`,
      );
    }
    value.imagesPerPrompt = n;
  }
  const name = text("name", cells.name);
  if (!name.ok) return name;
  if (name.value !== undefined) {
    if (name.value.length > NAME_CHARS) {
      return fail(`name can have at most ${NAME_CHARS} characters.`);
    }
    value.name = name.value;
  }
  const refs = cells.references;
  if (refs !== undefined && refs !== null) {
    const list = typeof refs === "string" ? refs.split(";") : refs;
    if (!Array.isArray(list) || list.some((r) => typeof r !== "string")) {
      return fail("references must be a list of reference ids or names.");
    }
    const cleaned = list.map((r: string) => r.trim()).filter(Boolean);
    if (cleaned.length > 0) value.references = cleaned;
  }
  return { ok: true, value };
}

/**
 * The file-name stem of a name: letters, digits, dot, dash and underscore,
 * the rest as dashes ("Red shoe!" → "Red-shoe").
 */
export function nameStem(name: string): string {
  return name.normalize("NFKD").replace(/[^A-Za-z0-9._-]+/g, "-").replace(
    /^[-.]+|-+$/g,
    "",
  ).slice(0, NAME_CHARS) || "image";
}
