/** Static assets: our CSS, and htmx from the pinned npm package. */
import { Hono } from "hono";
import { fileURLToPath as fromFileUrl } from "node:url";

const ASSETS: Record<string, { url: string; type: string }> = {
  "app.css": {
    url: new URL("../../static/app.css", import.meta.url).href,
    type: "text/css; charset=utf-8",
  },
  "htmx.min.js": {
    url: import.meta.resolve("htmx.org/dist/htmx.min.js"),
    type: "text/javascript; charset=utf-8",
  },
  "key_field.js": {
    url: new URL("../../static/key_field.js", import.meta.url).href,
    type: "text/javascript; charset=utf-8",
  },
  "viewer.js": {
    url: new URL("../../static/viewer.js", import.meta.url).href,
    type: "text/javascript; charset=utf-8",
  },
  "hx-sse.js": {
    url: import.meta.resolve("htmx.org/dist/ext/hx-sse.min.js"),
    type: "text/javascript; charset=utf-8",
  },
};

/** `GET /static/:name`, read once and kept in memory (a few KB). */
export function assetRoutes() {
  const cache = new Map<string, Uint8Array>();
  const app = new Hono();
  app.get("/static/:name", async (c) => {
    // Own keys only: `constructor` or `__proto__` are no assets.
    const name = c.req.param("name");
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!asset) return c.text("Not found", 404);
    let body = cache.get(asset.url);
    if (!body) {
      body = await Deno.readFile(fromFileUrl(asset.url));
      cache.set(asset.url, body);
    }
    return c.body(body as Uint8Array<ArrayBuffer>, 200, {
      "content-type": asset.type,
      "cache-control": "public, max-age=3600",
    });
  });
  return app;
}
