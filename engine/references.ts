/**
 * Saving and reading reference images: the one path from uploaded files
 * (form or `POST /api/references`) to stored bytes and rows, and back.
 */
import type { Db } from "../db/client.ts";
import { insertReferences } from "../db/reference_queries.ts";
import type { Config } from "../core/config.ts";
import { LIMITS } from "../core/limits.ts";
import type { ReferenceImage } from "../core/records.ts";
import { refuse, type Result } from "../core/result.ts";
import {
  type CheckedReference,
  checkReferenceImage,
  referencePath,
  storeReferenceBytes,
} from "../lib/reference_store.ts";

/** What saving references needs. */
export interface ReferenceDeps {
  db: Db;
  config: Pick<Config, "referencesDir">;
}

/** One uploaded file, as the edge read it. */
export interface UploadedFile {
  name: string;
  bytes: Uint8Array;
}

/**
 * Checks every file, then stores their bytes (once per content) and records
 * them for the workspace. All or nothing: if any file is refused, nothing is
 * written, and the message names each refused file.
 */
export async function saveReferences(
  { db, config }: ReferenceDeps,
  workspaceId: string,
  files: readonly UploadedFile[],
): Promise<Result<ReferenceImage[]>> {
  if (files.length === 0) {
    return refuse(
      "invalid_input",
      "Choose at least one reference image (PNG, JPEG or WebP).",
    );
  }
  if (files.length > LIMITS.referencesPerUpload) {
    return refuse(
      "invalid_input",
      `Upload at most ${LIMITS.referencesPerUpload} reference images at a time (this upload has ${files.length}).`,
    );
  }
  const checked: { facts: CheckedReference; bytes: Uint8Array }[] = [];
  const refusals: string[] = [];
  for (const file of files) {
    const result = await checkReferenceImage(file.name, file.bytes);
    if (result.ok) checked.push({ facts: result.value, bytes: file.bytes });
    else refusals.push(result.problem.message);
  }
  if (refusals.length > 0) {
    return refuse("invalid_input", refusals.join(" "));
  }
  // Files before rows: a row must never point at bytes that are not there.
  // (A file whose row failed to insert is harmless: it is named by content.)
  const written = new Set<string>();
  for (const { facts, bytes } of checked) {
    if (written.has(facts.sha256)) continue;
    await storeReferenceBytes(
      config.referencesDir,
      facts.sha256,
      facts.mimeType,
      bytes,
    );
    written.add(facts.sha256);
  }
  const saved = await insertReferences(
    db,
    checked.map(({ facts }) => ({ ...facts, workspaceId })),
  );
  return { ok: true, value: saved };
}

/**
 * The bytes of a recorded reference image, or undefined when its file is
 * missing (the data dir was pruned by hand).
 */
export async function readReferenceFile(
  dir: string,
  ref: Pick<ReferenceImage, "sha256" | "mimeType">,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  try {
    return await Deno.readFile(referencePath(dir, ref.sha256, ref.mimeType));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}
