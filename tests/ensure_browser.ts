/**
 * Used by `deno task test` before the suite: makes sure a Chromium exists
 * for the browser tests. As root on Debian it installs one with apt-get;
 * otherwise it says exactly what is missing.
 */
import { findChromium } from "./browser_path.ts";

async function run(command: string, args: string[]): Promise<boolean> {
  const { code } = await new Deno.Command(command, {
    args,
    stdin: "null",
    // Its progress goes to stderr with ours: stdout stays the suite's.
    stdout: "piped",
    stderr: "inherit",
    env: { DEBIAN_FRONTEND: "noninteractive" },
  }).output().then((out) => {
    Deno.stderr.writeSync(out.stdout);
    return out;
  });
  return code === 0;
}

function say(text: string) {
  Deno.stderr.writeSync(new TextEncoder().encode(text + "\n"));
}

/** The Chromium to use, installing it when possible; undefined (said why) when none. */
export async function ensureBrowser(): Promise<string | undefined> {
  const found = findChromium();
  if (found) {
    say(`browser tests will use ${found}`);
    return found;
  }
  const isRoot = Deno.uid() === 0;
  const hasApt = (() => {
    try {
      return Deno.statSync("/usr/bin/apt-get").isFile;
    } catch {
      return false;
    }
  })();
  if (isRoot && hasApt) {
    say(
      "No Chromium found: installing Debian's chromium with apt-get (needs the Debian mirror)…",
    );
    const ok = await run("apt-get", ["update", "-qq"]) &&
      await run("apt-get", [
        "install",
        "-y",
        "-qq",
        "--no-install-recommends",
        "chromium",
      ]);
    const installed = ok ? findChromium() : undefined;
    if (installed) return installed;
    say("Installing chromium with apt-get failed; see the output above.");
    return undefined;
  }
  say(
    "No Chromium found for the browser tests. Install it (Debian/Ubuntu: `sudo apt-get install chromium`) " +
      "or set CHROMIUM_PATH to a Chromium or Chrome executable, then run the tests again.",
  );
  return undefined;
}
