/**
 * [architecture] Dependencies point one way (design.md §3):
 * http → engine → db → core; views → core; generator → gemini, lib, core;
 * lib → core. Nothing imports http/ or the app wiring (main.ts, app.ts,
 * config.ts) from below, and core/ does no I/O. The test reads every source
 * file's imports (type-only ones too) and names each arrow that runs the
 * wrong way.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Which local places each layer may import (its own folder always). */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  lib: ["core"],
  db: ["core"],
  gemini: ["core"],
  engine: ["db", "core", "gemini", "lib"],
  generator: ["gemini", "lib", "core"],
  views: ["core"],
  http: ["engine", "db", "core", "views", "lib"],
};

/** Packages core/ may use: pure computation, no I/O. */
const CORE_PACKAGES = [/^zod$/, /^csv-parse\/sync$/];

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\b[^"';]*?\bfrom\s*["']([^"']+)["']|(?:^|\n)\s*import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;

interface Arrow {
  from: string;
  to: string;
}

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(join(ROOT, dir))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) {
      if (entry.name !== "migrations") yield* sourceFiles(path);
    } else if (
      /\.tsx?$/.test(entry.name) &&
      !/(_test|test_helpers)\.tsx?$/.test(entry.name)
    ) {
      yield path;
    }
  }
}

/** Every import specifier in `text`. */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const spec = match[1] ?? match[2] ?? match[3];
    if (spec) out.push(spec);
  }
  return out;
}

/** The layer (top folder, or the file itself at the root) of a repo path. */
function layerOf(path: string): string {
  return path.split("/")[0]!;
}

/** Arrows that break the rules, read from the files on disk. */
async function wrongArrows(): Promise<{ arrows: Arrow[]; io: string[] }> {
  const arrows: Arrow[] = [];
  const io: string[] = [];
  for (const layer of Object.keys(ALLOWED)) {
    for await (const file of sourceFiles(layer)) {
      const text = await Deno.readTextFile(join(ROOT, file));
      if (layer === "core" && /\bDeno\./.test(text)) io.push(file);
      for (const spec of importsOf(text)) {
        if (!spec.startsWith(".")) {
          const pure = CORE_PACKAGES.some((p) => p.test(spec));
          if (layer === "core" && !pure) arrows.push({ from: file, to: spec });
          continue;
        }
        const target = normalize(join(dirname(file), spec));
        const to = relative(".", target);
        const targetLayer = layerOf(to);
        const ok = targetLayer === layer ||
          ALLOWED[layer]!.includes(targetLayer) ||
          // JSON data of core (the price list) is part of core.
          (layer === "core" && to.startsWith("core/"));
        if (!ok) arrows.push({ from: file, to });
      }
    }
  }
  return { arrows, io };
}

Deno.test("[architecture] every import points down the layers, and core/ does no I/O", async () => {
  const { arrows, io } = await wrongArrows();
  assert.deepEqual(
    arrows.map((a) => `${a.from} → ${a.to}`),
    [],
    "imports that run the wrong way",
  );
  assert.deepEqual(io, [], "core/ modules that touch Deno's I/O");
});

Deno.test("[architecture] the import reader sees every form of import", () => {
  const text = `import { a } from "./a.ts";
import type { B } from "../b/b.ts";
export { c } from "./c.ts";
export type { D } from "./d.ts";
import "./side_effect.ts";
const e = await import("./e.ts");
import {
  f,
  g,
} from "../f.ts";
import prices from "./prices.json" with { type: "json" };`;
  assert.deepEqual(importsOf(text), [
    "./a.ts",
    "../b/b.ts",
    "./c.ts",
    "./d.ts",
    "./side_effect.ts",
    "./e.ts",
    "../f.ts",
    "./prices.json",
  ]);
});

Deno.test("[architecture] the wiring (main.ts, app.ts, config.ts) is imported by no layer", async () => {
  const wiring = ["main.ts", "app.ts", "config.ts"];
  const offenders: string[] = [];
  for (const layer of Object.keys(ALLOWED)) {
    for await (const file of sourceFiles(layer)) {
      const text = await Deno.readTextFile(join(ROOT, file));
      for (const spec of importsOf(text)) {
        if (!spec.startsWith(".")) continue;
        const to = relative(".", normalize(join(dirname(file), spec)));
        if (wiring.includes(to)) offenders.push(`${file} → ${to}`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});

/**
 * The modules `path` loads before it runs: static imports (not `import type`,
 * not `import()`), followed through the project's own files.
 */
async function loadedAtStart(path: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const STATIC = /^import\s+(?!type\b)(?:[^'"]*?\s+from\s+)?["']([^"']+)["']/gm;
  const visit = async (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    if (!file.startsWith("/")) return; // a package
    const text = await Deno.readTextFile(file);
    for (const match of text.matchAll(STATIC)) {
      const spec = match[1]!;
      await visit(spec.startsWith(".") ? join(dirname(file), spec) : spec);
    }
  };
  await visit(join(ROOT, path));
  return seen;
}

Deno.test("[architecture] the generator child starts without zod or the SDK (issue 13: lean start)", async () => {
  const loaded = [...await loadedAtStart("generator/child.ts")];
  assert.ok(loaded.some((m) => m.endsWith("generator/pool.ts")), "walked");
  const heavy = loaded.filter((m) => /^(zod|@google\/genai)/.test(m));
  assert.deepEqual(heavy, [], "loaded at start: " + heavy.join(", "));
});
