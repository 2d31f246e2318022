/**
 * The reference images of a run, as request parts. An image that several
 * items use is uploaded once through the Files API on first need and sent
 * as `fileData`; one used by a single item goes inline. Uploaded files are
 * deleted when the run ends (`cleanup`), whatever way it ends.
 */
import type { Job, JobItem, JobReference } from "../core/protocol.ts";
import type { Failure } from "../gemini/errors.ts";
import type { ReferencePart } from "../gemini/parts.ts";
import type { UploadedFile } from "../gemini/files.ts";
import { scrubError } from "../core/scrub.ts";

/** The parts of one item's references, or why they cannot be sent. */
export type ReferencePartsFor = (
  item: JobItem,
  signal: AbortSignal,
) => Promise<
  { ok: true; parts: ReferencePart[] } | { ok: false; failure: Failure }
>;

/** What the reference parts need from outside (the Files API, the disk). */
export interface ReferenceDeps {
  upload(
    reference: JobReference,
    bytes: Uint8Array<ArrayBuffer>,
    signal: AbortSignal,
  ): Promise<
    { ok: true; file: UploadedFile } | { ok: false; failure: Failure }
  >;
  remove(name: string): Promise<boolean>;
  readFile?: (path: string) => Promise<Uint8Array<ArrayBuffer>>;
  secrets?: readonly string[];
}

/** Failures that mean the key or its quota cannot go on: no inline retry. */
const FATAL: ReadonlySet<Failure["kind"]> = new Set(["auth", "quota"]);

/** Builds the run's reference parts; `cleanup` deletes what it uploaded. */
export function createReferenceParts(job: Job, deps: ReferenceDeps) {
  const readFile = deps.readFile ?? Deno.readFile;
  const byHash = new Map((job.references ?? []).map((r) => [r.sha256, r]));
  const uses = new Map<string, number>();
  for (const item of job.items) {
    for (const sha of new Set(item.references ?? [])) {
      uses.set(sha, (uses.get(sha) ?? 0) + 1);
    }
  }
  const uploads = new Map<string, Promise<ReferencePart | Failure>>();
  const uploaded: string[] = [];

  async function read(
    ref: JobReference,
  ): Promise<Uint8Array<ArrayBuffer> | Failure> {
    try {
      return await readFile(ref.path);
    } catch (error) {
      return {
        kind: "storage",
        message: `Cannot read a reference image: ${
          scrubError(error, deps.secrets ?? [])
        }`,
      };
    }
  }

  async function inline(ref: JobReference): Promise<ReferencePart | Failure> {
    const bytes = await read(ref);
    if (!(bytes instanceof Uint8Array)) return bytes;
    return { inlineData: { mimeType: ref.mimeType, data: bytes.toBase64() } };
  }

  async function upload(
    ref: JobReference,
    signal: AbortSignal,
  ): Promise<ReferencePart | Failure> {
    const bytes = await read(ref);
    if (!(bytes instanceof Uint8Array)) return bytes;
    const sent = await deps.upload(ref, bytes, signal);
    if (sent.ok) {
      uploaded.push(sent.file.name);
      return {
        fileData: {
          mimeType: sent.file.mimeType || ref.mimeType,
          fileUri: sent.file.uri,
        },
      };
    }
    // A key or quota failure stops the batch; anything else (the Files API
    // is down, a hiccup) still lets the image go inline with each request.
    if (FATAL.has(sent.failure.kind)) return sent.failure;
    return { inlineData: { mimeType: ref.mimeType, data: bytes.toBase64() } };
  }

  const partsFor: ReferencePartsFor = async (item, signal) => {
    const parts: ReferencePart[] = [];
    for (const sha of item.references ?? []) {
      const ref = byHash.get(sha);
      if (!ref) {
        return {
          ok: false,
          failure: {
            kind: "invalid-request",
            message: "A reference image of this item is missing from the run",
          },
        };
      }
      let part: ReferencePart | Failure;
      if ((uses.get(sha) ?? 0) > 1) {
        let pending = uploads.get(sha);
        if (!pending) {
          pending = upload(ref, signal);
          uploads.set(sha, pending);
        }
        part = await pending;
        // A failed upload is tried again by the next item that needs it.
        if ("kind" in part) uploads.delete(sha);
      } else part = await inline(ref);
      if ("kind" in part) return { ok: false, failure: part };
      parts.push(part);
    }
    return { ok: true, parts };
  };

  return {
    partsFor,
    /** Files uploaded so far (names at Google). */
    uploadedFiles: (): readonly string[] => uploaded,
    /** Deletes every uploaded file; never throws. */
    async cleanup(): Promise<void> {
      await Promise.allSettled(uploaded.map((name) => deps.remove(name)));
    },
  };
}
