/**
 * The reverse proxies of deploy/ for tests/e2e/caddy_test.ts and
 * nginx_test.ts. `deno task test` calls `ensureProxies()` before the suite:
 * as root on Debian it installs the missing ones with apt-get (Debian's
 * `caddy` and `nginx` packages); otherwise it says what is missing, and
 * those tests are reported as ignored with the reason, never passed.
 */

const SEARCH = ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"];

/** Debian package of each proxy program. */
const PACKAGES = { caddy: "caddy", nginx: "nginx" } as const;
export type Proxy = keyof typeof PACKAGES;

function say(text: string) {
  Deno.stderr.writeSync(new TextEncoder().encode(text + "\n"));
}

/** The executable `name` on PATH (or in the sbin folders), or undefined. */
export function findProgram(name: string): string | undefined {
  const path = (Deno.env.get("PATH") ?? "").split(":").filter(Boolean);
  for (const dir of [...path, ...SEARCH]) {
    try {
      const file = `${dir}/${name}`;
      const stat = Deno.statSync(file);
      if (stat.isFile && ((stat.mode ?? 0o111) & 0o111) !== 0) return file;
    } catch {
      // Not there; try the next folder.
    }
  }
  return undefined;
}

/** Why the test of `proxy` cannot run here, or undefined when it can. */
export function proxyMissing(proxy: Proxy): string | undefined {
  if (findProgram(proxy)) return undefined;
  return `${proxy} is not installed (Debian/Ubuntu: apt-get install ${
    PACKAGES[proxy]
  }; \`deno task test\` installs it when run as root)`;
}

async function apt(args: string[]): Promise<boolean> {
  const out = await new Deno.Command("apt-get", {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
    env: { DEBIAN_FRONTEND: "noninteractive" },
  }).output();
  // Its progress goes to stderr with ours: stdout stays the suite's.
  Deno.stderr.writeSync(out.stdout);
  return out.code === 0;
}

/**
 * Makes sure Caddy and nginx exist, installing the missing ones as root on
 * Debian. Never fails the suite: a proxy that cannot be had makes its test
 * report itself ignored, with this reason.
 */
export async function ensureProxies(): Promise<void> {
  const missing = (Object.keys(PACKAGES) as Proxy[]).filter((p) =>
    !findProgram(p)
  );
  if (missing.length === 0) return;
  const canInstall = Deno.uid() === 0 && findProgram("apt-get") !== undefined;
  if (canInstall) {
    const packages = missing.map((p) => PACKAGES[p]);
    say(
      `No ${
        missing.join(" or ")
      } for the deploy/ proxy tests: installing Debian's ${
        packages.join(", ")
      } with apt-get…`,
    );
    const ok = await apt(["update", "-qq"]) &&
      await apt([
        "install",
        "-y",
        "-qq",
        "--no-install-recommends",
        ...packages,
      ]);
    if (!ok) say("Installing with apt-get failed; see the output above.");
  }
  for (const proxy of missing) {
    const why = proxyMissing(proxy);
    if (why) say(`The ${proxy} proxy test will be ignored: ${why}.`);
  }
}
