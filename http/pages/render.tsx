/** Renders a whole page, or only `main`'s content for htmx navigation. */
import type { Context } from "hono";
import type { AppEnv } from "../env.ts";
import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { Layout, MAIN_ID } from "../../views/layout.tsx";
import { workspaceLabel } from "../middleware/workspace.ts";

/** True when htmx asked to swap `main` (boosted links and forms). */
export function wantsMainFragment(c: Context): boolean {
  return c.req.header("HX-Request") === "true" &&
    c.req.header("HX-History-Restore-Request") !== "true" &&
    c.req.header("HX-Target") === `main#${MAIN_ID}`;
}

/** Answers `content` as a full page or as the fragment for `#main`. */
export function page(
  c: Context<AppEnv>,
  title: string,
  content: Child,
  status: ContentfulStatusCode = 200,
) {
  c.header("Vary", "HX-Request, HX-Target");
  if (wantsMainFragment(c)) {
    return c.html(
      <>
        <title>{`${title} · BatchGen`}</title>
        {content}
      </>,
      status,
    );
  }
  return c.html(
    <>
      {raw("<!DOCTYPE html>")}
      <Layout
        title={title}
        keyBlocked={c.var.transport.keyProblem}
        workspace={workspaceLabel(c.get("workspaceId"))}
      >
        {content}
      </Layout>
    </>,
    status,
  );
}

/** True for any htmx request. */
export function isHtmx(c: Context): boolean {
  return c.req.header("HX-Request") === "true";
}
