/**
 * htmx 4 `<hx-partial>` wrappers: one response (or one SSE message) updates
 * several elements by id. Ids come from the component that renders each
 * element, so an id is spelled in one place.
 */
import type { Child } from "hono/jsx";

/** Replaces the element with this id by `children`. */
export function Replace({ id, children }: { id: string; children?: Child }) {
  return (
    <hx-partial hx-target={`#${id}`} hx-swap="outerHTML">
      {children}
    </hx-partial>
  );
}

/** Appends `children` inside the element with this id. */
export function Append({ id, children }: { id: string; children?: Child }) {
  return (
    <hx-partial hx-target={`#${id}`} hx-swap="beforeend">
      {children}
    </hx-partial>
  );
}

/** Removes the element with this id. */
export function Remove({ id }: { id: string }) {
  return <hx-partial hx-target={`#${id}`} hx-swap="delete"></hx-partial>;
}

/**
 * Attributes that make an element fetch itself again every `every` (htmx
 * 4 `hx-trigger`) and swap its own outerHTML, for a fragment that watches a
 * run it does not stream. A failed poll (the server restarting) leaves the
 * element as it was; the answer drops them once there is nothing to watch.
 */
export function pollSelf(path: string, every: string) {
  return {
    "hx-get": path,
    "hx-trigger": `every ${every}`,
    "hx-swap": "outerHTML",
    "hx-status:5xx": "swap:none",
  };
}
