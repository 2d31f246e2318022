/**
 * Small checks of request input shared by the page and API routes, so a bad
 * request gets a 400 that says what is wrong instead of a silent guess.
 */
import type { Context } from "hono";
import { refuse, type Result } from "../core/result.ts";

/**
 * Reads a JSON body that must be valid UTF-8 (no silent U+FFFD) and valid
 * JSON; with `allowEmpty`, a blank body reads as `undefined`.
 */
export async function readJsonBody(
  c: Context,
  { allowEmpty = false } = {},
): Promise<Result<unknown>> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(
      await c.req.arrayBuffer(),
    );
  } catch {
    return refuse(
      "malformed_json",
      "The request body is not valid UTF-8 text.",
    );
  }
  if (allowEmpty && text.trim() === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return refuse("malformed_json", "The request body is not valid JSON.");
  }
}

/** A history cursor is `<created ms>_<batch id>`, as `nextCursor` gives it. */
const CURSOR_SHAPE = /^\d{1,15}(?:_[0-9a-z]{1,64})?$/;

/** Explains why a `cursor` query value is unusable, or undefined. */
export function cursorProblem(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === "" || CURSOR_SHAPE.test(cursor)) {
    return undefined;
  }
  return "The cursor is not valid: pass the nextCursor of the previous page unchanged.";
}

/** Reads a JSON body that must be one object (blank allowed with `allowEmpty`). */
export async function readJsonObject(
  c: Context,
  { allowEmpty = false } = {},
): Promise<Result<Record<string, unknown> | undefined>> {
  const json = await readJsonBody(c, { allowEmpty });
  if (!json.ok) return json;
  const body = json.value;
  if (body === undefined) return { ok: true, value: undefined };
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    return refuse("malformed_json", "The request body must be a JSON object.");
  }
  return { ok: true, value: body as Record<string, unknown> };
}
