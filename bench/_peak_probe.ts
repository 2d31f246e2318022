import { measurePeak } from "./lean.ts";
const n = Number(Deno.args[0] ?? 1000);
const p = await measurePeak(n, 1);
console.log(n, (p[0]! / 1024).toFixed(1), "MB");
