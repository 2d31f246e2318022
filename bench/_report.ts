/**
 * The bench's report: figures printed as they come, and rows for the
 * summary table (figure, measured, target, met).
 */

export interface Row {
  figure: string;
  measured: string;
  target: string;
  met?: boolean;
}

export interface Report {
  quick: boolean;
  rows: Row[];
  add(row: Row): void;
  print(line?: string): void;
}

export function createReport(quick: boolean): Report {
  const rows: Row[] = [];
  return {
    quick,
    rows,
    add: (row) => rows.push(row),
    // deno-lint-ignore no-console
    print: (line = "") => console.log(line),
  };
}

export const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
export const mb = (kb: number | undefined) =>
  kb === undefined ? "n/a" : `${(kb / 1024).toFixed(0)} MB`;
export const ms = (x: number) => `${x.toFixed(0)} ms`;
export const ratio3 = (x: number) => x.toFixed(3);
export const median = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The summary table; "(smoke)" instead of met/MISSED in a quick run. */
export function printTable(report: Report) {
  report.print();
  report.print("## Summary");
  const head = ["figure", "measured", "target", ""];
  const rows = report.rows.map((r) => [
    r.figure,
    r.measured,
    r.target,
    r.met === undefined
      ? ""
      : report.quick
      ? "(smoke)"
      : r.met
      ? "met"
      : "MISSED",
  ]);
  const widths = head.map((_, i) =>
    Math.max(head[i]!.length, ...rows.map((r) => r[i]!.length))
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(" | ")} |`;
  report.print(line(head));
  report.print(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const row of rows) report.print(line(row));
}
