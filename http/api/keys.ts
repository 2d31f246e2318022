/** `POST /api/keys/validate`: the models a key can use, for scripts (K3: only on request). */
import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../env.ts";
import { apiProblem } from "../problem.ts";
import { readApiKey } from "./key_header.ts";

/** The API's key check; the answer never contains the key (K2). */
export function apiKeyRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.post("/keys/validate", async (c) => {
    c.header("Cache-Control", "no-store");
    const key = readApiKey(c);
    if (!key.ok) return apiProblem(c, key.problem);
    const result = await deps.checkKey(key.value, deps.config.geminiBaseUrl, {
      signal: c.req.raw.signal,
    });
    if (!result.ok) return apiProblem(c, result.problem);
    return c.json({
      ok: true,
      models: result.value.map((m) => ({
        id: m.id,
        displayName: m.displayName,
        supported: Boolean(m.known),
        aspectRatios: m.known?.aspectRatios ?? null,
        imageSizes: m.known?.imageSizes ?? null,
      })),
    });
  });
  return app;
}
