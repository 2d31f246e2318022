/** The JSON API's reference images: upload (multipart) and read back. */
import { type Context, Hono } from "hono";
import type { AppDeps, AppEnv } from "../env.ts";
import type { ReferenceImage } from "../../core/records.ts";
import { saveReferences, type UploadedFile } from "../../engine/references.ts";
import { ownReferenceFile } from "../pages/references.ts";
import { apiError, apiProblem } from "../problem.ts";

/** A reference image as the API shows it (design.md §7). */
export function referenceJson(ref: ReferenceImage) {
  return {
    id: ref.id,
    name: ref.name,
    mimeType: ref.mimeType,
    bytes: ref.bytes,
    width: ref.width,
    height: ref.height,
    sha256: ref.sha256,
  };
}

/** Routes under /api/references. */
export function apiReferenceRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.post("/references", async (c) => {
    const type = c.req.header("content-type")?.toLowerCase() ?? "";
    if (!type.startsWith("multipart/form-data")) {
      return apiError(
        c,
        "unsupported_media_type",
        "Send the images as multipart/form-data, one `file` part per image (curl -F file=@photo.png).",
      );
    }
    const files = await uploadedFiles(c);
    if (!files) {
      return apiError(
        c,
        "malformed_body",
        "The multipart body could not be read; send the images again.",
      );
    }
    if (files.length === 0) {
      return apiError(
        c,
        "invalid_input",
        "Send at least one image as a `file` part (PNG, JPEG or WebP), e.g. curl -F file=@photo.png.",
      );
    }
    const saved = await saveReferences(deps, c.get("workspaceId"), files);
    if (!saved.ok) return apiProblem(c, saved.problem);
    return c.json({ references: saved.value.map(referenceJson) }, 201);
  });

  app.get(
    "/references/:id",
    async (c) =>
      await ownReferenceFile(deps, c) ??
        apiError(
          c,
          "not_found",
          "There is no such reference image in this workspace.",
        ),
  );

  return app;
}

/**
 * Every `file` part that is a file (a text part named `file` is not one);
 * undefined when the body is not readable multipart.
 */
async function uploadedFiles(
  c: Context<AppEnv>,
): Promise<UploadedFile[] | undefined> {
  let body;
  try {
    // readableForm() has parsed a non-empty body already; this reuses that
    // parse. An empty body reaches here unparsed, and fails to parse.
    body = await c.req.parseBody({ all: true });
  } catch {
    return undefined;
  }
  const parts = [body.file ?? []].flat();
  const files = parts.filter((part): part is File => part instanceof File);
  return await Promise.all(
    files.map(async (file) => ({
      name: file.name,
      bytes: new Uint8Array(await file.arrayBuffer()),
    })),
  );
}
