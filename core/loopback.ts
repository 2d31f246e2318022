/**
 * Which addresses are this machine. A key may travel over plain HTTP only to
 * or from here (K7): from a browser on this machine, and to a Gemini base URL
 * on this machine (tests, a local proxy).
 */

/** Google's API host; the SDK adds the version segment. */
export const GOOGLE_API_BASE_URL = "https://generativelanguage.googleapis.com";

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback (not "localhost"). */
export function isLoopbackHost(hostname: string | undefined): boolean {
  if (!hostname) return false;
  const h = hostname.replace(/^\[|\]$/g, "").replace(/^::ffff:/i, "");
  return h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Why a Gemini base URL may not carry the key, or undefined when it may. */
export function geminiBaseUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be an http(s) URL";
  }
  if (url.protocol === "https:") return undefined;
  if (
    url.protocol === "http:" &&
    (url.hostname === "localhost" || isLoopbackHost(url.hostname))
  ) return undefined;
  return "must be https:// (plain http:// only to 127.0.0.1, ::1 or localhost)";
}
