/**
 * The template syntax parsed into a small tree: literal text, and choices of
 * one option among several (a `{a|b}` group, or a wildcard list's values,
 * each parsed in turn). The tree is what templates.ts counts, expands and
 * samples, so the syntax is read in one place only.
 */
import { refuse, type Result } from "./result.ts";

/** Literal text, or a choice of one option (a variant group or a list). */
export type Node = string | { options: Sequence[] };
export type Sequence = readonly Node[];
/** Wildcard lists by name. */
export type Wildcards = Readonly<Record<string, readonly string[]>>;

/** A wildcard list's name: letters, digits, "_", "-", "/"; no "_" at an end. */
export const WILDCARD_NAME = String
  .raw`[\p{L}\p{N}/-](?:[\p{L}\p{N}_/-]*?[\p{L}\p{N}/-])??`;

/** Lists refer to lists; deeper than this is almost surely a mistake. */
const MAX_LIST_DEPTH = 8;
/** Braces nest no deeper, so walking a tree cannot overflow the stack. */
const MAX_BRACE_DEPTH = 100;
const ESCAPABLE = "{}|_\\";
/** The shortest name followed by "__" (lazy `??`), so "__a__b__" is a. */
const WILDCARD = new RegExp(`__(${WILDCARD_NAME})__`, "uy");

/** A refusal while parsing, turned into a Result at the top. */
class TemplateError extends Error {}

interface Context {
  wildcards: Wildcards;
  /** Each list parsed once, however often it is used. */
  lists: Map<string, Node>;
  /** The lists being parsed, outermost first, to find cycles. */
  path: string[];
}

/** The template's tree, every wildcard it uses resolved, or why not. */
export function parseTemplate(
  template: string,
  wildcards: Wildcards,
): Result<Sequence> {
  try {
    return {
      ok: true,
      value: parse(template, { wildcards, lists: new Map(), path: [] }),
    };
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    return refuse("invalid_input", error.message);
  }
}

function parse(text: string, context: Context): Sequence {
  const where = context.path.length === 0
    ? "The template"
    : `A value of the wildcard list "${context.path.at(-1)}"`;
  /** Position for messages: 1-based, in characters rather than UTF-16 units. */
  const at = (index: number) => [...text.slice(0, index)].length + 1;
  // One frame per open brace: the options so far and the current one.
  const stack: { start: number; outer: Node[]; options: Node[][] }[] = [];
  let current: Node[] = [];
  let literal = "";
  const flush = () => {
    if (literal) current.push(literal);
    literal = "";
  };
  for (let i = 0; i < text.length;) {
    const char = text[i]!;
    WILDCARD.lastIndex = i;
    const wildcard = char === "_" ? WILDCARD.exec(text) : null;
    if (
      char === "\\" && i + 1 < text.length && ESCAPABLE.includes(text[i + 1]!)
    ) {
      literal += text[i + 1];
      i += 2;
    } else if (wildcard) {
      flush();
      current.push(resolve(wildcard[1]!, context));
      i += wildcard[0].length;
    } else if (char === "{") {
      if (stack.length >= MAX_BRACE_DEPTH) {
        throw new TemplateError(
          `${where} nests "{" more than ${MAX_BRACE_DEPTH} deep.`,
        );
      }
      flush();
      stack.push({ start: i, outer: current, options: [] });
      current = [];
      i++;
    } else if (char === "|" && stack.length > 0) {
      flush();
      stack.at(-1)!.options.push(current);
      current = [];
      i++;
    } else if (char === "}") {
      const frame = stack.pop();
      if (!frame) {
        throw new TemplateError(
          `${where} has a stray "}" (at character ${at(i)}).`,
        );
      }
      flush();
      const options = [...frame.options, current];
      current = frame.outer;
      // `{x}` is just x: one option is no choice.
      if (options.length === 1) current.push(...options[0]!);
      else current.push({ options });
      i++;
    } else {
      literal += char;
      i++;
    }
  }
  const open = stack.pop();
  if (open) {
    throw new TemplateError(
      `${where} has an unclosed "{" (at character ${at(open.start)}).`,
    );
  }
  flush();
  return current;
}

function resolve(name: string, context: Context): Node {
  const { lists, path, wildcards } = context;
  const known = lists.get(name);
  if (known) return known;
  if (path.includes(name)) {
    const cycle = [...path.slice(path.indexOf(name)), name].join(" → ");
    throw new TemplateError(
      `The wildcard list "${name}" refers to itself (${cycle}).`,
    );
  }
  if (path.length >= MAX_LIST_DEPTH) {
    throw new TemplateError(
      `Wildcard lists refer to lists more than ${MAX_LIST_DEPTH} deep (${
        [...path, name].join(" → ")
      }).`,
    );
  }
  const values = Object.hasOwn(wildcards, name) ? wildcards[name] : undefined;
  if (!values) {
    throw new TemplateError(
      `No wildcard list named "${name}": upload ${name}.txt or give it in wildcards.`,
    );
  }
  if (values.length === 0) {
    throw new TemplateError(`The wildcard list "${name}" has no values.`);
  }
  path.push(name);
  const node = { options: values.map((value) => parse(value, context)) };
  path.pop();
  lists.set(name, node);
  return node;
}
