/**
 * Run by `deno task test` before the suite: makes sure a Chromium exists for
 * the browser tests. As root on Debian it installs one with apt-get;
 * otherwise it says exactly what is missing.
 */
import { findChromium } from "./browser_path.ts";

async function run(command: string, args: string[]): Promise<boolean> {
  const { code } = await new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
    env: { DEBIAN_FRONTEND: "noninteractive" },
  }).output();
  return code === 0;
}

function say(text: string) {
  Deno.stderr.writeSync(new TextEncoder().encode(text + "\n"));
}

if (import.meta.main) {
  const found = findChromium();
  if (found) {
    say(`browser tests will use ${found}`);
    Deno.exit(0);
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
    if (ok && findChromium()) Deno.exit(0);
    say("Installing chromium with apt-get failed; see the output above.");
    Deno.exit(1);
  }
  say(
    "No Chromium found for the browser tests. Install it (Debian/Ubuntu: `sudo apt-get install chromium`) " +
      "or set CHROMIUM_PATH to a Chromium or Chrome executable, then run the tests again.",
  );
  Deno.exit(1);
}
