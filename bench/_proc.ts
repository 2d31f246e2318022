/**
 * Shared by the benchmarks: the bench key, the environment a Deno child
 * needs, and peak memory (VmHWM) of processes read from /proc.
 */

/** A recognisable fake key; the fake Gemini accepts any key not "bad-…". */
export const BENCH_KEY =
  "AQ.Ab8RN6LkBenchKeyNotASecret0123456789abcdefghijKLMN";

/** Environment Deno needs to start a child (K4: nothing else). */
export function denoEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value) env[name] = value;
  }
  return env;
}

/** Reads one "VmXxx:   1234 kB" field of /proc/<pid>/status, in kB. */
export function procStatusKb(pid: number, field: string): number | undefined {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/status`);
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Children of `parent` whose command line contains `needle`. */
export function childPids(parent: number, needle: string): number[] {
  const found: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      // Field 4 (ppid) follows the command name, which may hold spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== parent) continue;
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`);
      if (cmdline.includes(needle)) found.push(Number(entry.name));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** What `memorySampler` saw per pid, in kB. */
export interface MemoryFigures {
  /** Highest VmHWM (peak resident set) seen. */
  peaks: Map<number, number>;
  /** Median of the VmRSS samples: the steady size, without GC spikes. */
  medians: Map<number, number>;
}

/**
 * Polls VmHWM and VmRSS of the pids `pids()` returns every `everyMs`;
 * `stop()` gives the peak and the median resident size per pid.
 */
export function memorySampler(pids: () => number[], everyMs = 25) {
  const peaks = new Map<number, number>();
  const rss = new Map<number, number[]>();
  const sample = () => {
    for (const pid of pids()) {
      const hwm = procStatusKb(pid, "VmHWM");
      if (hwm !== undefined) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, hwm));
      const now = procStatusKb(pid, "VmRSS");
      if (now !== undefined) rss.set(pid, [...(rss.get(pid) ?? []), now]);
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop(): MemoryFigures {
      clearInterval(timer);
      sample();
      const medians = new Map<number, number>();
      for (const [pid, values] of rss) {
        const sorted = [...values].sort((a, b) => a - b);
        medians.set(pid, sorted[Math.floor(sorted.length / 2)]!);
      }
      return { peaks, medians };
    },
  };
}
