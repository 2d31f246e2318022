/**
 * Shared by the key-invariant tests: finds key material (the key, any
 * 8-character window of it, or of its URL-encoded / base64 forms) in text,
 * bytes, files, DB rows and HTTP responses, and says where it was found.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Client } from "@libsql/client";
import type { TestApp } from "./_helpers.ts";
import { GENERATOR_MODE } from "../engine/runner.ts";

/**
 * An invalid key of a valid shape (44 chars): the fake answers "bad-…" keys
 * with 400 API_KEY_INVALID and ECHOES the key in a DebugInfo detail. It does
 * not look like a Google key, so only the per-secret scrubbing can catch it.
 */
export const BAD_KEY = "bad-LeakCanaryZq7Xv93KpWm2Rt8Yh4Nc6Bf1Jd5Gs0uV";

/** Shortest fragment of a key that counts as a leak (design.md K5). */
export const WINDOW = 8;

function base64Forms(key: string): string[] {
  const bytes = new TextEncoder().encode(key);
  const forms: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    let binary = "";
    for (const b of bytes.subarray(shift)) binary += String.fromCharCode(b);
    const b64 = btoa(binary).replace(/=+$/, "");
    forms.push(b64, b64.replace(/\+/g, "-").replace(/\//g, "_"));
  }
  return forms;
}

/** Every 8-character window of the key and of its encoded forms, with its origin. */
export function keyWindows(key: string): Map<string, string> {
  const windows = new Map<string, string>();
  const forms: [string, string][] = [
    ["raw", key],
    ["url-encoded", encodeURIComponent(key)],
    ...base64Forms(key).map((f): [string, string] => ["base64", f]),
  ];
  for (const [name, form] of forms) {
    // Cut the last 2 chars of base64 forms: they depend on what follows.
    const usable = name === "base64" ? form.slice(0, -2) : form;
    for (let i = 0; i + WINDOW <= usable.length; i++) {
      const w = usable.slice(i, i + WINDOW);
      if (!windows.has(w)) windows.set(w, `${name} window @${i}`);
    }
  }
  return windows;
}

const latin1 = new TextDecoder("latin1");

/** Describes the first key material found in `data`, or undefined. */
export function findKeyMaterial(
  data: string | Uint8Array,
  key: string,
): string | undefined {
  const text = typeof data === "string" ? data : latin1.decode(data);
  if (text.includes(key)) {
    return `the whole key at offset ${text.indexOf(key)}`;
  }
  for (const [w, origin] of keyWindows(key)) {
    const at = text.indexOf(w);
    if (at >= 0) {
      const context = text.slice(Math.max(0, at - 40), at + WINDOW + 40)
        .replace(/[^\x20-\x7e]/g, "·");
      return `fragment "${w}" (${origin}) at offset ${at}: …${context}…`;
    }
  }
  return undefined;
}

/** Places that might leak, each with what it holds. */
export class LeakScan {
  readonly places: { where: string; data: string | Uint8Array }[] = [];

  add(where: string, data: string | Uint8Array): void {
    this.places.push({ where, data });
  }

  /** Fails with every place that holds material of any of `keys`. */
  assertClean(keys: readonly string[]): void {
    const leaks: string[] = [];
    for (const key of keys) {
      for (const { where, data } of this.places) {
        const found = findKeyMaterial(data, key);
        if (found) {
          leaks.push(`key ${key.slice(0, 4)}… leaked in ${where}: ${found}`);
        }
      }
    }
    assert.ok(
      leaks.length === 0,
      `Key material found (${leaks.length}):\n${leaks.join("\n")}`,
    );
  }
}

/** A response read whole, with its body kept as text. */
export interface Seen {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * A same-origin loopback browser that keeps the workspace cookie and records
 * every response's headers and body bytes into `scan`.
 */
export function recordingClient(t: TestApp, scan: LeakScan) {
  let cookie = "";
  return {
    get cookie() {
      return cookie;
    },
    async send(
      path: string,
      init: RequestInit & { remote?: string } = {},
    ): Promise<Seen> {
      const headers = new Headers(init.headers);
      if (cookie && !headers.has("cookie")) headers.set("cookie", cookie);
      const response = await t.request(path, { ...init, headers });
      const setCookie = response.headers.get("set-cookie");
      if (setCookie) cookie = setCookie.split(";")[0]!;
      const bytes = new Uint8Array(await response.arrayBuffer());
      const label = `${init.method ?? "GET"} ${path} → ${response.status}`;
      scan.add(`${label} body`, bytes);
      scan.add(`${label} headers`, JSON.stringify([...response.headers]));
      return {
        status: response.status,
        headers: response.headers,
        text: new TextDecoder().decode(bytes),
      };
    },
  };
}

/** Every file under `dir`, recursively, as [path, bytes]. */
export async function readTree(dir: string): Promise<[string, Uint8Array][]> {
  const out: [string, Uint8Array][] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...await readTree(path));
    else if (entry.isFile) out.push([path, await Deno.readFile(path)]);
  }
  return out;
}

/** Every value of every column of every table, as [table.column#row, value]. */
export async function dbCells(t: TestApp): Promise<[string, string][]> {
  // The app's own libSQL connection: it sees the same rows the app wrote.
  const client = (t.deps.db as unknown as { $client: Client }).$client;
  const tables = await client.execute(
    "select name from sqlite_master where type = 'table'",
  );
  const cells: [string, string][] = [];
  for (const { name } of tables.rows) {
    const rows = await client.execute(`select * from "${String(name)}"`);
    rows.rows.forEach((row, i) => {
      rows.columns.forEach((column, c) => {
        const value = row[c];
        const text = value instanceof ArrayBuffer
          ? latin1.decode(new Uint8Array(value))
          : String(value);
        cells.push([`${String(name)}.${column} row ${i}`, text]);
      });
    });
  }
  return cells;
}

/** What the kernel shows of a process: argv and its initial environment. */
export interface ProcView {
  argv: string[];
  environ: string[];
  cmdlineBytes: Uint8Array;
  environBytes: Uint8Array;
}

/**
 * Waits until `pid` has exec'd the generator (its argv ends in the entry's
 * generator mode, or names generator/main.ts when run on its own) and
 * reads /proc/<pid>/cmdline and /proc/<pid>/environ; undefined if it ended.
 */
export async function readGeneratorProc(
  pid: number,
  timeoutMs = 10_000,
): Promise<ProcView | undefined> {
  const split = (bytes: Uint8Array) =>
    new TextDecoder().decode(bytes).split("\0").filter(Boolean);
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const cmdlineBytes = await Deno.readFile(`/proc/${pid}/cmdline`);
      const argv = split(cmdlineBytes);
      // Empty while the kernel swaps in the new program (exec) as well as
      // once it has exited: only a zombie's state says it has ended.
      if (argv.length === 0) {
        const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
        if (stat.split(") ")[1]?.startsWith("Z")) return undefined;
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      if (
        argv.at(-1) === GENERATOR_MODE ||
        argv.some((a) => a.endsWith("generator/main.ts"))
      ) {
        const environBytes = await Deno.readFile(`/proc/${pid}/environ`);
        return {
          argv,
          environ: split(environBytes),
          cmdlineBytes,
          environBytes,
        };
      }
    } catch (error) {
      // Deno lets a test read another process's /proc only with
      // --allow-all: say so, rather than pass without having looked.
      if (error instanceof Deno.errors.NotCapable) throw error;
      return undefined;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return undefined;
}
