/**
 * A hostile stand-in for Google's API: it answers in Google's wire format
 * but tries to make BatchGen leak the key, follow it elsewhere, hang, eat
 * memory or store what it should not. One `Hostility` per server; every
 * request is recorded with the key header it carried.
 */
import { pngBase64 } from "./fake_gemini/png.ts";

export type Hostility =
  /** Every answer is a 307 to `redirectTo`. */
  | { kind: "redirect"; status?: number }
  /** The models list names a model after the key and echoes it in displayName. */
  | { kind: "echo-in-models" }
  /** Every error echoes the key, encoded by `encode`. */
  | { kind: "echo-in-error"; status: number; encode: (key: string) => string }
  /** The models list never ends: each page has a next page. */
  | { kind: "endless-pages" }
  /** Errors with a body of `bytes` (key echoed at its start and end). */
  | { kind: "huge-error"; bytes: number }
  /** Images with absurd token counts. */
  | { kind: "absurd-usage" }
  /** Image parts whose mimeType and bytes disagree or attack headers. */
  | { kind: "bad-mime"; mimeType: string; data?: "png" | "html" };

export interface HostileGemini {
  url: string;
  /** Every request: path and the key header it carried. */
  requests: { path: string; key: string | null }[];
  /** Body bytes the client actually pulled from huge answers. */
  readonly hugeBytesRead: number;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A host that records whatever reaches it (the target of redirects). */
export function startRecorder(): HostileGemini {
  const requests: HostileGemini["requests"] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => {
      requests.push({
        path: new URL(request.url).pathname,
        key: request.headers.get("x-goog-api-key"),
      });
      return Response.json({ models: [] });
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    hugeBytesRead: 0,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** Starts a hostile upstream on loopback. */
export function startHostileGemini(
  hostility: Hostility,
  { redirectTo }: { redirectTo?: string } = {},
): HostileGemini {
  const requests: HostileGemini["requests"] = [];
  const read = { bytes: 0 };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const url = new URL(request.url);
      const key = request.headers.get("x-goog-api-key");
      requests.push({ path: url.pathname, key });
      return await answer(hostility, url, key ?? "", redirectTo, read);
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests,
    get hugeBytesRead() {
      return read.bytes;
    },
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

async function answer(
  hostility: Hostility,
  url: URL,
  key: string,
  redirectTo: string | undefined,
  read: { bytes: number },
): Promise<Response> {
  const listing = url.pathname.endsWith("/models");
  switch (hostility.kind) {
    case "redirect":
      return new Response(null, {
        status: hostility.status ?? 307,
        headers: { location: `${redirectTo}${url.pathname}${url.search}` },
      });
    case "echo-in-models":
      return listing
        ? Response.json({
          models: [{
            name: `models/gemini-x-image-${key}`,
            displayName: `Echo ${key}`,
            supportedGenerationMethods: ["generateContent"],
          }],
        })
        : await image();
    case "echo-in-error":
      return googleError(
        hostility.status,
        `API key not valid: ${hostility.encode(key)}`,
      );
    case "endless-pages": {
      const page = Number(url.searchParams.get("pageToken") ?? "0");
      return Response.json({
        models: [{
          name: `models/gemini-page-${page}-image`,
          displayName: `Page ${page}`,
        }],
        nextPageToken: String(page + 1),
      });
    }
    case "huge-error":
      return hugeError(key, hostility.bytes, read);
    case "absurd-usage":
      return listing ? Response.json({ models: [] }) : await image({
        promptTokenCount: 1e300,
        candidatesTokenCount: Number.MAX_VALUE,
        thoughtsTokenCount: -5,
        candidatesTokensDetails: [{ modality: "IMAGE", tokenCount: 1e308 }],
      });
    case "bad-mime":
      return listing ? Response.json({ models: [] }) : await image(
        undefined,
        hostility.mimeType,
        hostility.data === "html"
          ? btoa("<html><script>alert(1)</script></html>")
          : undefined,
      );
  }
}

async function image(
  usageMetadata: Record<string, unknown> = {
    promptTokenCount: 10,
    candidatesTokenCount: 1120,
    candidatesTokensDetails: [{ modality: "IMAGE", tokenCount: 1120 }],
  },
  mimeType = "image/png",
  data?: string,
): Promise<Response> {
  return Response.json({
    candidates: [{
      content: {
        role: "model",
        parts: [{
          inlineData: {
            mimeType,
            data: data ?? await pngBase64(8, 8, [200, 30, 30]),
          },
        }],
      },
      finishReason: "STOP",
    }],
    usageMetadata,
  });
}

function googleError(status: number, message: string): Response {
  return Response.json({
    error: { code: status, message, status: "INVALID_ARGUMENT" },
  }, { status });
}

/** A JSON error body of about `bytes`, streamed, the key at both ends. */
function hugeError(
  key: string,
  bytes: number,
  read: { bytes: number },
): Response {
  const encoder = new TextEncoder();
  const filler = encoder.encode("x".repeat(64 * 1024));
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(
        encoder.encode(`{"error":{"code":400,"message":"${key} `),
      );
    },
    pull(controller) {
      if (sent >= bytes) {
        controller.enqueue(encoder.encode(` ${key}","status":"X"}}`));
        controller.close();
        return;
      }
      controller.enqueue(filler);
      sent += filler.length;
      read.bytes += filler.length;
    },
  });
  return new Response(body, {
    status: 400,
    headers: { "content-type": "application/json" },
  });
}
