/**
 * Images in an S3-compatible bucket (AWS S3, Cloudflare R2, MinIO), signed
 * with aws4fetch (SigV4 over `fetch`). Keys are `prefix/<batchId>/<file>`.
 *
 * - `put` uploads once: the body's sha256 is checked here, sent as the signed
 *   payload hash (`x-amz-content-sha256`, so the server verifies the bytes it
 *   got) and kept as `x-amz-meta-sha256`; `If-None-Match: *` makes a second
 *   write of the same name a no-op when the bytes are the same, and a refusal
 *   when they differ. A local file handed to `put` is removed once uploaded.
 * - `get` streams the object (same-origin URLs, no presigned links). An image
 *   the generator wrote here but that is not uploaded yet (the upload failed
 *   and is retried later) is served from the local folder.
 * - The secret key stays inside the client: never in a message, a log line or
 *   an inspected object.
 */
import { AwsClient } from "aws4fetch";
import { join } from "node:path";
import type { StorageConfig } from "../core/config.ts";
import {
  isSafeBatchId,
  MANIFEST_NAME,
  mimeTypeOf,
  parseImageFileName,
} from "../core/files.ts";
import { sha256Hex } from "./storage.ts";
import {
  assertStorableName,
  type ImageStore,
  ImageStoreError,
  openLocal,
  type PutSource,
  removeDir,
  type StoredFile,
} from "./image_store_local.ts";

type S3Config = Extract<StorageConfig, { kind: "s3" }>;

/** How long one request (its headers, for a GET) may take. */
const REQUEST_TIMEOUT_MS = 60_000;
/** Deletes sent at once when a batch is removed. */
const DELETE_CONCURRENCY = 8;

export class S3ImageStore implements ImageStore {
  readonly kind = "s3";
  readonly bucket: string;
  readonly prefix: string;
  readonly imagesDir: string;
  readonly #client: AwsClient;
  readonly #base: URL;
  readonly #pathStyle: boolean;
  readonly #pageSize: number;

  /** `listPageSize`: keys per ListObjectsV2 page (S3's own maximum: 1000). */
  constructor(
    config: S3Config,
    imagesDir: string,
    { listPageSize = 1000 }: { listPageSize?: number } = {},
  ) {
    this.#pageSize = listPageSize;
    this.bucket = config.bucket;
    this.prefix = config.prefix.replace(/^\/+|\/+$/g, "");
    this.imagesDir = imagesDir;
    this.#base = new URL(
      config.endpoint ?? `https://s3.${config.region}.amazonaws.com`,
    );
    this.#pathStyle = config.forcePathStyle;
    this.#client = new AwsClient({
      accessKeyId: config.accessKeyId,
      secretAccessKey: config.secretAccessKey,
      service: "s3",
      region: config.region,
      // aws4fetch retries 5xx and 429 with backoff; its default (10) can
      // hold a request for minutes.
      retries: 3,
      initRetryMs: 100,
    });
  }

  localDir(batchId: string): string {
    return join(this.imagesDir, batchId);
  }

  /** The object key of one file of a batch. */
  key(batchId: string, fileName: string): string {
    return `${this.#batchPrefix(batchId)}${fileName}`;
  }

  async put(
    batchId: string,
    fileName: string,
    source: PutSource,
    sha256: string,
    options: { replace?: boolean } = {},
  ): Promise<void> {
    assertStorableName(batchId, fileName);
    const key = this.key(batchId, fileName);
    const bytes = "path" in source
      ? await Deno.readFile(source.path)
      : source.bytes;
    if (await sha256Hex(bytes) !== sha256) {
      throw new ImageStoreError(
        `Cannot store ${key}: its bytes do not match the sha256 recorded for it`,
      );
    }
    const headers: Record<string, string> = {
      "content-type": contentTypeOf(fileName),
      "content-length": String(bytes.byteLength),
      "x-amz-content-sha256": sha256,
      "x-amz-meta-sha256": sha256,
    };
    if (!options.replace) headers["if-none-match"] = "*";
    const response = await this.#send("PUT", key, {
      headers,
      body: bytes as Uint8Array<ArrayBuffer>,
    });
    if (response.status === 412 || response.status === 409) {
      // Already there (a retried upload, a second sync): the same bytes are
      // fine, others are never overwritten.
      await response.body?.cancel();
      const stored = await this.storedSha256(batchId, fileName);
      if (stored !== sha256) {
        throw new ImageStoreError(
          `Cannot store ${key}: a different file is already stored under that name`,
        );
      }
    } else if (!response.ok) {
      await failed("PUT", key, response);
    } else {
      await response.body?.cancel();
    }
    if ("path" in source) {
      await Deno.remove(source.path).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
    }
  }

  /** The sha256 an object was stored with; undefined when there is none. */
  async storedSha256(
    batchId: string,
    fileName: string,
  ): Promise<string | undefined> {
    const key = this.key(batchId, fileName);
    const response = await this.#send("HEAD", key);
    await response.body?.cancel();
    if (response.status === 404) return undefined;
    if (!response.ok) await failed("HEAD", key, response);
    return response.headers.get("x-amz-meta-sha256") ?? undefined;
  }

  async get(
    batchId: string,
    fileName: string,
  ): Promise<StoredFile | undefined> {
    try {
      assertStorableName(batchId, fileName);
    } catch {
      return undefined;
    }
    // Written here by the generator and not uploaded yet: serve that copy.
    const staged = await openLocal(this.localDir(batchId), batchId, fileName);
    if (staged) return staged;
    const key = this.key(batchId, fileName);
    const response = await this.#send("GET", key, { stream: true });
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok || !response.body) {
      return await failed("GET", key, response);
    }
    const length = response.headers.get("content-length");
    return {
      body: response.body,
      size: length === null ? undefined : Number(length),
    };
  }

  async remove(batchId: string): Promise<void> {
    if (!isSafeBatchId(batchId)) return;
    const keys = await this.#keys(this.#batchPrefix(batchId));
    await eachAtMost(DELETE_CONCURRENCY, keys, async (key) => {
      const response = await this.#send("DELETE", key);
      if (!response.ok && response.status !== 404) {
        await failed("DELETE", key, response);
      }
      await response.body?.cancel();
    });
    await removeDir(this.localDir(batchId));
  }

  async list(batchId: string): Promise<string[]> {
    if (!isSafeBatchId(batchId)) return [];
    const prefix = this.#batchPrefix(batchId);
    return (await this.#keys(prefix)).map((key) => key.slice(prefix.length))
      .sort();
  }

  async check(): Promise<void> {
    const response = await this.#send("GET", "", {
      query: {
        "max-keys": "1",
        ...(this.prefix ? { prefix: `${this.prefix}/` } : {}),
      },
    });
    if (!response.ok) await failed("LIST", this.prefix || "/", response);
    await response.body?.cancel();
  }

  #batchPrefix(batchId: string): string {
    return `${this.prefix ? `${this.prefix}/` : ""}${batchId}/`;
  }

  /**
   * Every key under `prefix`, page by page. ListObjects (v1) with `marker`
   * (the last key seen) works the same on AWS S3, R2, MinIO and s3rver,
   * whose v2 continuation tokens need a cipher Deno's node:crypto lacks.
   */
  async #keys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const response = await this.#send("GET", "", {
        query: {
          "max-keys": String(this.#pageSize),
          prefix,
          ...(marker ? { marker } : {}),
        },
      });
      if (!response.ok) await failed("LIST", prefix, response);
      const xml = await response.text();
      const page = [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) =>
        xmlText(match[1]!)
      );
      keys.push(...page.filter((key) => key.startsWith(prefix)));
      const last = page.at(-1);
      if (!/<IsTruncated>true<\/IsTruncated>/.test(xml) || !last) break;
      marker =
        xmlText(/<NextMarker>([^<]*)<\/NextMarker>/.exec(xml)?.[1] ?? "") ||
        last;
    }
    return keys;
  }

  /** The URL of `key` ("" for the bucket itself), path-style or virtual-hosted. */
  #url(key: string, query: Record<string, string> = {}): URL {
    const url = new URL(this.#base.href);
    const path = key.split("/").map(encodeURIComponent).join("/");
    if (this.#pathStyle) {
      url.pathname = `${url.pathname.replace(/\/+$/, "")}/${
        encodeURIComponent(this.bucket)
      }/${path}`;
    } else {
      url.host = `${this.bucket}.${url.host}`;
      url.pathname = `/${path}`;
    }
    url.search = new URLSearchParams(query).toString();
    return url;
  }

  async #send(
    method: "GET" | "HEAD" | "PUT" | "DELETE",
    key: string,
    { query, headers, body, stream = false }: {
      query?: Record<string, string>;
      headers?: Record<string, string>;
      body?: Uint8Array<ArrayBuffer>;
      /** The body is read later: only the headers are under the timeout. */
      stream?: boolean;
    } = {},
  ): Promise<Response> {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new ImageStoreError(`S3 ${method} timed out`)),
      REQUEST_TIMEOUT_MS,
    );
    try {
      const response = await this.#client.fetch(this.#url(key, query).href, {
        method,
        headers,
        body,
        signal: controller.signal,
      });
      if (stream) clearTimeout(timer);
      return response;
    } catch (error) {
      // A network error names the host at most; never the request's headers.
      throw new ImageStoreError(
        `S3 ${method} of ${key || "/"} failed: ${
          error instanceof Error ? error.message : String(error)
        }`,
      );
    } finally {
      if (!stream) clearTimeout(timer);
    }
  }
}

/** Throws a readable error for a refused request: status and S3's error code only. */
async function failed(
  what: string,
  key: string,
  response: Response,
): Promise<never> {
  const text = await response.text().catch(() => "");
  const code = /<Code>([\w.-]{1,100})<\/Code>/.exec(text)?.[1];
  throw new ImageStoreError(
    `S3 ${what} of ${key || "/"} failed: ${response.status}${
      code ? ` ${code}` : ""
    }`,
  );
}

function contentTypeOf(fileName: string): string {
  if (fileName === MANIFEST_NAME) return "application/json";
  const parts = parseImageFileName(fileName);
  return parts ? mimeTypeOf(parts.extension) : "application/octet-stream";
}

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
};

/** XML character data as text. */
function xmlText(text: string): string {
  return text.replace(
    /&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi,
    (whole, name: string) => {
      if (name[0] === "#") {
        const code = name[1] === "x" || name[1] === "X"
          ? parseInt(name.slice(2), 16)
          : parseInt(name.slice(1), 10);
        return Number.isFinite(code) ? String.fromCodePoint(code) : whole;
      }
      return ENTITIES[name.toLowerCase()] ?? whole;
    },
  );
}

/** Runs `task` over `items`, at most `limit` at once; the first error wins. */
async function eachAtMost<T>(
  limit: number,
  items: readonly T[],
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, worker),
  );
}
