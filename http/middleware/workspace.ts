/**
 * Anonymous workspaces. A random token (256 bits) in an HttpOnly cookie, or
 * `Authorization: Bearer <token>` for scripts, owns the batches created with
 * it. Only its SHA-256 is stored, as the workspace id, and only tokens this
 * server issued open a workspace: a made-up token is never adopted. When a
 * browser sends two different workspace cookies (another site on this host
 * can set one: cookies do not keep ports apart), BatchGen does not guess.
 */
import { setCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";
import type { Db } from "../../db/client.ts";
import { addWorkspace, workspaceExists } from "../../db/workspace_queries.ts";
import { problemResponse } from "../problem.ts";

export const WORKSPACE_COOKIE = "batchgen_workspace";
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** Derives the stored workspace id from a token. */
export async function workspaceIdOf(token: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(token),
  );
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

/** A short, public name of a workspace for the page (from its id, not its token). */
export function workspaceLabel(
  workspaceId: string | undefined,
): string | undefined {
  return workspaceId?.slice(0, 6);
}

function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(
    /\//g,
    "_",
  )
    .replace(/=+$/, "");
}

/**
 * Every value of the workspace cookie in a Cookie header, in order. Over
 * HTTPS only the `__Host-` cookie counts: no other site can set that one.
 */
export function workspaceCookies(
  header: string | undefined,
  secure: boolean,
): string[] {
  const wanted = secure ? `__Host-${WORKSPACE_COOKIE}` : WORKSPACE_COOKIE;
  return (header ?? "").split(";").flatMap((pair) => {
    const at = pair.indexOf("=");
    return at > 0 && pair.slice(0, at).trim() === wanted
      ? [pair.slice(at + 1).trim()]
      : [];
  });
}

/** Sets `workspaceId`/`workspaceToken`, starting a workspace when none is sent. */
export function workspace({ db }: { db: Db }) {
  return createMiddleware<AppEnv>(async function workspace(c, next) {
    const bearer = c.req.header("authorization")?.match(/^Bearer\s+(\S+)$/i)
      ?.[1];
    const secure = c.var.transport.secureCookies;
    const cookies = [
      ...new Set(workspaceCookies(c.req.header("cookie"), secure)),
    ];
    let token: string | undefined;
    if (bearer) {
      const issued = TOKEN_SHAPE.test(bearer) &&
        await workspaceExists(db, await workspaceIdOf(bearer));
      if (!issued) {
        return problemResponse(c, {
          code: "unknown_workspace",
          message:
            "This workspace token was not issued by this BatchGen. Use the token shown on its History page.",
        });
      }
      token = bearer;
    } else if (cookies.length > 1) {
      return problemResponse(c, {
        code: "ambiguous_workspace",
        message:
          "Your browser sent two BatchGen workspace cookies for this address (another site on the same host can set one), " +
          "so BatchGen will not guess which workspace is yours. Clear this site's cookies and reload.",
      });
    } else if (
      cookies[0] && TOKEN_SHAPE.test(cookies[0]) &&
      await workspaceExists(db, await workspaceIdOf(cookies[0]))
    ) {
      token = cookies[0];
    }
    if (!token) {
      token = newToken();
      await addWorkspace(db, await workspaceIdOf(token));
      // Over HTTPS the cookie is `__Host-` prefixed: browsers then keep it
      // only Secure, for this host, Path=/, so no sibling subdomain can
      // plant one.
      setCookie(c, WORKSPACE_COOKIE, token, {
        httpOnly: true,
        sameSite: "Lax",
        secure,
        path: "/",
        maxAge: 60 * 60 * 24 * 365,
        prefix: secure ? "host" : undefined,
      });
    }
    c.set("workspaceToken", token);
    c.set("workspaceId", await workspaceIdOf(token));
    await next();
  });
}
