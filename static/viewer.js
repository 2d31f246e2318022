// The image viewer of the batch page: a click (or Enter) on a tile's image
// opens the <dialog id="viewer"> (views/components/viewer.tsx) instead of the
// raw file. No build step, no inline script (CSP).
//
// Tiles are replaced by id during a run and the whole page by in-app
// navigation, so nothing is bound to a tile or to the dialog: one listener on
// the document looks both up when an event arrives, and the viewer remembers
// only the id of the tile it shows.

const VIEWER_ID = "viewer";
const IMAGE_SELECTOR = "[data-viewer-image]";

/** Id of the tile shown, kept while the viewer is open. */
let shownTileId = null;
/** The dialog element that was opened, to notice when a swap replaced it. */
let openDialog = null;

/** The viewer dialog of the page shown, if it has one. */
function viewer() {
  const dialog = document.getElementById(VIEWER_ID);
  return dialog instanceof HTMLDialogElement ? dialog : null;
}

/** Image links of the tiles now in the page, in grid order. */
function imageLinks() {
  return [...document.querySelectorAll(`.tile ${IMAGE_SELECTOR}`)];
}

/** The image link of the tile with this id, if it is in the page and has one. */
function linkOfTile(tileId) {
  return tileId
    ? document.getElementById(tileId)?.querySelector(IMAGE_SELECTOR) ?? null
    : null;
}

/** Copies one tile's figures into the dialog's slots, as text only. */
function show(dialog, link) {
  const tile = link.closest(".tile");
  shownTileId = tile?.id ?? null;
  const prompt = tile?.querySelector("[data-viewer-prompt]")?.textContent ??
    "";
  for (const slot of dialog.querySelectorAll("[data-viewer-slot]")) {
    const name = slot.getAttribute("data-viewer-slot");
    if (name === "image") {
      const thumb = link.querySelector("img");
      slot.setAttribute("src", link.getAttribute("href"));
      slot.setAttribute("alt", prompt);
      for (const size of ["width", "height"]) {
        const value = thumb?.getAttribute(size);
        if (value) slot.setAttribute(size, value);
        else slot.removeAttribute(size);
      }
    } else if (name === "download") {
      slot.setAttribute("href", link.getAttribute("href"));
      slot.setAttribute("download", link.getAttribute("data-viewer-file"));
    } else if (name === "prompt") {
      slot.textContent = prompt;
    } else {
      slot.textContent = link.getAttribute(`data-viewer-${name}`) ?? "";
    }
  }
  updateSteps(dialog);
}

/** Opens the dialog (if it is not yet) and remembers which element it is. */
function openViewer(dialog) {
  if (!dialog.open) dialog.showModal();
  openDialog = dialog;
}

/** Enables Previous/Next only where there is an image to go to. */
function updateSteps(dialog) {
  const links = imageLinks();
  const at = links.indexOf(linkOfTile(shownTileId));
  for (const button of dialog.querySelectorAll("[data-viewer-step]")) {
    const to = at + Number(button.getAttribute("data-viewer-step"));
    button.disabled = at < 0 || to < 0 || to >= links.length;
  }
  // A button that just went disabled drops focus out of the dialog.
  const focused = document.activeElement;
  if (!dialog.contains(focused) || focused.disabled) {
    dialog.querySelector("form[method=dialog] button")?.focus();
  }
}

/** Shows the previous (-1) or next (+1) image; tiles without one are skipped. */
function step(dialog, by) {
  const links = imageLinks();
  const at = links.indexOf(linkOfTile(shownTileId));
  const next = at < 0 ? undefined : links[at + by];
  if (next) show(dialog, next);
}

document.addEventListener("click", (event) => {
  if (event.defaultPrevented || !(event.target instanceof Element)) return;
  // The caption counts as the image: on hover it grows over the image,
  // so a click aimed at the image may land on it.
  const hit = event.target.closest(`.tile ${IMAGE_SELECTOR}, .tile figcaption`);
  const link = hit?.closest(".tile")?.querySelector(IMAGE_SELECTOR);
  if (link) {
    // A modified or middle click keeps its usual meaning (new tab, save).
    const plain = event.button === 0 && !event.ctrlKey && !event.metaKey &&
      !event.shiftKey && !event.altKey;
    const dialog = viewer();
    if (!plain || !dialog) return;
    event.preventDefault();
    show(dialog, link);
    openViewer(dialog);
    return;
  }
  const dialog = viewer();
  if (!dialog?.open) return;
  const stepper = event.target.closest("[data-viewer-step]");
  if (stepper && dialog.contains(stepper)) {
    step(dialog, Number(stepper.getAttribute("data-viewer-step")));
  } else if (event.target === dialog) {
    // Only the backdrop hits the dialog itself: its content fills it.
    dialog.close();
  }
});

document.addEventListener("keydown", (event) => {
  const dialog = viewer();
  if (!dialog?.open || event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
    event.preventDefault();
    step(dialog, event.key === "ArrowLeft" ? -1 : 1);
  }
});

// Focus goes back to the tile of the image last shown (not necessarily the
// one opened), so the grid position follows what was looked at. `close`
// does not bubble, hence the capture listener on the document.
document.addEventListener("close", (event) => {
  if (event.target !== viewer()) return;
  const link = linkOfTile(shownTileId);
  shownTileId = null;
  openDialog = null;
  if (link) {
    link.focus();
    link.scrollIntoView({ block: "nearest" });
  }
}, true);

// Images that arrive while the viewer is open become reachable at once. A
// swap that replaced the whole batch section (the open dialog with it)
// reopens the new dialog on the same tile rather than dropping the viewer.
document.addEventListener("htmx:after:swap", () => {
  if (!openDialog) return;
  const dialog = viewer();
  if (dialog === openDialog) {
    updateSteps(dialog);
    return;
  }
  const link = linkOfTile(shownTileId);
  openDialog = null;
  shownTileId = null;
  if (!dialog || !link) return;
  show(dialog, link);
  openViewer(dialog);
});
