/** `POST /keys/validate`: lists the image models a key can use (K3: only on request). */
import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../env.ts";
import type { Problem } from "../../core/result.ts";
import { KeyStatusMessage } from "../../views/components/key_status.tsx";
import { KeyChecked } from "../../views/fragments/key_check.tsx";
import { statusOf } from "../problem.ts";
import { readKeyField } from "./key_field.ts";

/** The page's key check; the answer never contains the key (K2). */
export function keyRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.post("/keys/validate", async (c) => {
    c.header("Cache-Control", "no-store");
    const refuse = (problem: Problem) =>
      c.html(
        <KeyStatusMessage ok={false} message={problem.message} />,
        statusOf(problem.code),
      );
    const read = await readKeyField(c);
    if (!read.ok) return refuse(read.problem);
    const { key, form } = read.value;
    const result = await deps.checkKey(key, deps.config.geminiBaseUrl, {
      signal: c.req.raw.signal,
    });
    if (!result.ok) return refuse(result.problem);
    return c.html(
      <KeyChecked
        usable={result.value.flatMap((m) => m.known ? [m.known] : [])}
        unsupported={result.value.filter((m) => !m.known).map((m) => m.id)}
        current={typeof form.model === "string" ? form.model : undefined}
      />,
    );
  });
  return app;
}
