/**
 * Anonymous workspaces. A random token (256 bits) in an HttpOnly cookie, or
 * `Authorization: Bearer <token>` for scripts, owns the batches created with
 * it. Only its SHA-256 is stored, as the workspace id.
 */
import { getCookie, setCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env.ts";

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

function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(
    /\//g,
    "_",
  )
    .replace(/=+$/, "");
}

/** Sets `workspaceId`/`workspaceToken`, starting a workspace when none is sent. */
export function workspace() {
  return createMiddleware<AppEnv>(async function workspace(c, next) {
    const bearer = c.req.header("authorization")?.match(/^Bearer\s+(\S+)$/i)
      ?.[1];
    const secure = c.var.transport.secureCookies;
    // Over HTTPS the cookie is `__Host-` prefixed: browsers then keep it only
    // Secure, for this host, Path=/, so no sibling subdomain can plant one.
    const prefix = secure ? "host" as const : undefined;
    const cookie = getCookie(c, WORKSPACE_COOKIE, prefix);
    let token = [bearer, cookie].find((t) => t && TOKEN_SHAPE.test(t));
    if (!token) {
      token = newToken();
      setCookie(c, WORKSPACE_COOKIE, token, {
        httpOnly: true,
        sameSite: "Lax",
        secure,
        path: "/",
        maxAge: 60 * 60 * 24 * 365,
        prefix,
      });
    }
    c.set("workspaceToken", token);
    c.set("workspaceId", await workspaceIdOf(token));
    await next();
  });
}
