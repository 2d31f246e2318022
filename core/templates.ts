/**
 * Prompt templates in the Dynamic Prompts syntax: `{a|b|c}` picks one
 * variant (nesting allowed), `__name__` one value of the wildcard list
 * `name`, and a backslash makes `{ } | _ \` literal. A template is parsed
 * once into a small tree, wildcards resolved, and counted, expanded or
 * sampled from that tree, so a count never enumerates.
 */
import { refuse, type Result } from "./result.ts";
import { decodePromptFile } from "./prompt_file.ts";
import { LIMITS } from "./limits.ts";
import {
  type Node,
  parseTemplate,
  type Sequence,
  WILDCARD_NAME,
  type Wildcards,
} from "./template_parse.ts";

export type { Wildcards };

export interface Expansion {
  prompt: string;
  /** values chosen, in order of appearance (variants and wildcards), e.g. ["red", "fox"] */
  choices: string[];
}

const LIST_NAME = new RegExp(`^${WILDCARD_NAME}$`, "u");
const SYNTAX = new RegExp(
  String.raw`[{}]|\\[{}|_\\]|__${WILDCARD_NAME}__`,
  "u",
);
const SATURATED = Number.MAX_SAFE_INTEGER;

/** Whether the text means something else as a template than as written. */
export function hasTemplateSyntax(text: string): boolean {
  return SYNTAX.test(text);
}

/**
 * How many prompts a template makes, counted on the tree (never enumerated),
 * so `{a|b}` twenty times answers at once; saturates at MAX_SAFE_INTEGER.
 */
export function countExpansions(
  template: string,
  wildcards: Wildcards,
): Result<number> {
  const tree = parseTemplate(template, wildcards);
  return tree.ok ? { ok: true, value: countOf(tree.value, new Map()) } : tree;
}

/**
 * Every prompt a template makes, in a stable order (the leftmost choice
 * varies slowest). Counted first: past `limit` it refuses before building
 * any, so a huge template costs nothing.
 */
export function expandTemplate(
  template: string,
  wildcards: Wildcards,
  limit: number,
): Result<Expansion[]> {
  const tree = parseTemplate(template, wildcards);
  if (!tree.ok) return tree;
  const count = countOf(tree.value, new Map());
  if (count > limit) {
    const n = count === SATURATED ? `at least ${SATURATED}` : count;
    return refuse(
      "invalid_input",
      `The template makes ${n} prompts; at most ${limit}.`,
    );
  }
  return { ok: true, value: expansionsOf(tree.value, new Map()) };
}

/**
 * `count` prompts drawn at random: each choice picks one of its options
 * evenly. The same seed gives the same prompts (a preview matches the run);
 * nothing is enumerated, so it suits templates of any size. Draws are
 * independent, so a small template can give a prompt twice.
 */
export function sampleTemplate(
  template: string,
  wildcards: Wildcards,
  count: number,
  seed: number,
): Result<Expansion[]> {
  if (!Number.isSafeInteger(count) || count < 0) {
    return refuse(
      "invalid_input",
      "The number of prompts to draw must be a whole number, 0 or more.",
    );
  }
  const tree = parseTemplate(template, wildcards);
  if (!tree.ok) return tree;
  const random = mulberry32(seed);
  const value = Array.from({ length: count }, () => {
    const choices: string[] = [];
    return { prompt: sampleOf(tree.value, random, choices), choices };
  });
  return { ok: true, value };
}

/**
 * Wildcard lists from an uploaded file: a `.json` object of string arrays
 * (`{"colors": ["red", "blue"]}`), or any other file as one list named after
 * the file (`colors.txt` → `colors`), a value per line; blank lines and
 * lines starting with "#" are skipped there.
 */
export function readWildcardFile(
  name: string,
  bytes: Uint8Array,
): Result<Record<string, string[]>> {
  let text: string;
  try {
    text = decodePromptFile({ name, bytes });
  } catch (error) {
    return refuse("invalid_input", (error as Error).message);
  }
  const dot = name.lastIndexOf(".");
  const extension = dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
  let lists: Record<string, unknown>;
  if (extension === "json") {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return refuse("invalid_input", `${name} is not valid JSON.`);
    }
    if (!value || typeof value !== "object" || Array.isArray(value)) {
      return refuse(
        "invalid_input",
        `${name} must be an object of lists: {"colors": ["red", "blue"]}.`,
      );
    }
    lists = value as Record<string, unknown>;
  } else {
    lists = {
      [dot > 0 ? name.slice(0, dot) : name]: text.split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => line && !line.startsWith("#")),
    };
  }
  return checkLists(name, lists);
}

function checkLists(
  file: string,
  lists: Record<string, unknown>,
): Result<Record<string, string[]>> {
  const entries = Object.entries(lists);
  if (entries.length > LIMITS.wildcardLists) {
    return refuse(
      "invalid_input",
      `${file} has ${entries.length} lists; at most ${LIMITS.wildcardLists}.`,
    );
  }
  for (const [list, values] of entries) {
    const problem = !LIST_NAME.test(list)
      ? `"${list}" cannot name a wildcard list: use letters, digits, "_", "-" and "/", not starting or ending with "_".`
      : !Array.isArray(values) || values.some((v) => typeof v !== "string")
      ? `The wildcard list "${list}" in ${file} must be an array of strings.`
      : values.length === 0
      ? `The wildcard list "${list}" in ${file} has no values.`
      : values.length > LIMITS.wildcardValues
      ? `The wildcard list "${list}" has ${values.length} values; at most ${LIMITS.wildcardValues}.`
      : undefined;
    if (problem) return refuse("invalid_input", problem);
  }
  return { ok: true, value: lists as Record<string, string[]> };
}

/** Options multiply along a sequence and add up within a choice. */
function countOf(sequence: Sequence, memo: Map<Node, number>): number {
  let count = 1;
  for (const node of sequence) {
    if (typeof node === "string") continue;
    let options = memo.get(node);
    if (options === undefined) {
      options = 0;
      for (const option of node.options) {
        options = Math.min(SATURATED, options + countOf(option, memo));
      }
      memo.set(node, options);
    }
    count = Math.min(SATURATED, count * options);
  }
  return count;
}

/** Each choice records the text its option made, before the choices inside it. */
function expansionsOf(
  sequence: Sequence,
  memo: Map<Node, Expansion[]>,
): Expansion[] {
  let expansions: Expansion[] = [{ prompt: "", choices: [] }];
  for (const node of sequence) {
    let parts = typeof node === "string"
      ? [{ prompt: node, choices: [] }]
      : memo.get(node);
    if (!parts && typeof node !== "string") {
      parts = node.options.flatMap((option) =>
        expansionsOf(option, memo).map(({ prompt, choices }) => ({
          prompt,
          choices: [prompt.trim(), ...choices],
        }))
      );
      memo.set(node, parts);
    }
    // Earlier nodes vary slowest: each partial prompt takes every part.
    expansions = expansions.flatMap((head) =>
      parts!.map((tail) => ({
        prompt: head.prompt + tail.prompt,
        choices: [...head.choices, ...tail.choices],
      }))
    );
  }
  return expansions;
}

function sampleOf(
  sequence: Sequence,
  random: () => number,
  choices: string[],
): string {
  let prompt = "";
  for (const node of sequence) {
    if (typeof node === "string") {
      prompt += node;
      continue;
    }
    const option = node.options[Math.floor(random() * node.options.length)]!;
    // The slot is taken first so the outer choice comes before inner ones.
    const slot = choices.push("") - 1;
    const text = sampleOf(option, random, choices);
    choices[slot] = text.trim();
    prompt += text;
  }
  return prompt;
}

/** mulberry32: tiny, fast and good enough to pick variants; 32-bit seed. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
