/**
 * The entry's internal command that runs one generator job (left out of
 * `--help`): `batchgen __generator`, or `deno run … main.ts __generator`.
 * In a module of its own so main.ts can tell the mode without loading the
 * server side of the generator (runner.ts and zod) into the child.
 */
export const GENERATOR_MODE = "__generator";
