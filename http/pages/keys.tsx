/** `POST /keys/validate`: lists the image models a key can use (K3: only on request). */
import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../env.ts";
import { parseApiKey } from "../../core/api_key.ts";
import type { ModelInfo } from "../../core/catalog.ts";
import { keyTransportProblem } from "../middleware/transport.ts";
import { ModelSelect } from "../../views/components/model_select.tsx";
import { ModelOptions } from "../../views/components/model_options.tsx";

/** The page's key check; the answer never contains the key (K2). */
export function keyRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.post("/keys/validate", async (c) => {
    c.header("Cache-Control", "no-store");
    const transport = keyTransportProblem(c, deps.config.trustProxy);
    if (transport) {
      return c.html(<p class="key-bad" role="alert">{transport}</p>, 403);
    }
    const body = await c.req.parseBody();
    const key = parseApiKey(body.apiKey);
    if (!key.ok) {
      return c.html(<p class="key-bad" role="alert">{key.message}</p>, 400);
    }
    const result = await deps.checkKey(key.key, deps.config.geminiBaseUrl, {
      signal: c.req.raw.signal,
    });
    if (!result.ok) {
      return c.html(
        <p class="key-bad" role="alert">{result.message}</p>,
        result.status === 422 ? 422 : 502,
      );
    }
    const usable = result.models.flatMap((m) => m.known ? [m.known] : []);
    const unsupported = result.models.filter((m) => !m.known).map((m) => m.id);
    const selected = usable.find((m) => m.id === body.model)?.id ??
      usable[0]?.id ?? "";
    return c.html(
      <>
        <p class="key-ok" role="status">
          Key works. Image models it can use:{" "}
          {usable.length > 0
            ? usable.map((m: ModelInfo) => m.label).join(", ")
            : "none that BatchGen supports"}.{" "}
          Listing models does not prove image quota: free-tier keys get none.
        </p>
        {usable.length > 0 && (
          <hx-partial hx-target="#model-field" hx-swap="outerHTML">
            <ModelSelect
              selected={selected}
              available={usable}
              unsupported={unsupported}
            />
          </hx-partial>
        )}
        {usable.length > 0 && selected !== body.model && (
          <hx-partial hx-target="#model-options" hx-swap="outerHTML">
            <ModelOptions
              model={usable.find((m) =>
                m.id === selected
              )!}
            />
          </hx-partial>
        )}
      </>,
    );
  });
  return app;
}
