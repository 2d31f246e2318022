/** Plain pages: the key promise, not-found and error pages. */
import { Hono } from "hono";
import type { Context } from "hono";
import type { AppEnv } from "../env.ts";
import { KeyPage } from "../../views/pages/key_page.tsx";
import { MessagePage } from "../../views/pages/message_page.tsx";
import { page } from "./render.tsx";

/** `GET /key`: "How your key is handled". */
export function pageRoutes() {
  const app = new Hono<AppEnv>();
  app.get("/key", (c) => page(c, "How your key is handled", <KeyPage />));
  return app;
}

/** The 404 page. */
export function notFoundPage(c: Context) {
  return page(
    c,
    "Not found",
    <MessagePage title="Not found" message="There is no such page." />,
    404,
  );
}

/** The 500 page; it never shows the error itself. */
export function errorPage(c: Context) {
  return page(
    c,
    "Error",
    <MessagePage
      title="Something went wrong"
      message="The server could not answer; see its log."
    />,
    500,
  );
}
