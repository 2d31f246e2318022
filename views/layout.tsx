/** The page shell: header with the key field and the activity region, and `main`. */
import type { Child } from "hono/jsx";
import { COST_LABEL } from "../core/cost.ts";
import { KEY_FIELD_ID, KEY_STATUS_ID } from "./components/key_status.tsx";
import { MODEL_FIELD_NAME } from "./components/model_select.tsx";

/** Id of the region the run elements live in (kept across navigation). */
export const ACTIVITY_ID = "activity";
/** Id of the main region that in-app navigation swaps. */
export const MAIN_ID = "main";

export interface LayoutProps {
  title: string;
  children: Child;
  /** Set when this connection must not carry a key (K7): why, and how to fix it. */
  keyBlocked?: string;
  /** A short public name of the workspace shown (not its token). */
  workspace?: string;
}

/** Full HTML document. The key field is never rendered with a value (K2). */
export function Layout(
  { title, children, keyBlocked, workspace }: LayoutProps,
) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>{`${title} · BatchGen`}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/static/app.css" />
        <script src="/static/htmx.min.js" defer></script>
        <script src="/static/hx-sse.js" defer></script>
        <script src="/static/key_field.js" defer></script>
        <script src="/static/viewer.js" type="module"></script>
      </head>
      <body hx-boost:inherited={`target:#${MAIN_ID}`}>
        <header class="topbar">
          <a class="brand" href="/">BatchGen</a>
          <nav class="nav" aria-label="Main">
            <a href="/">New batch</a>
            <a href="/history">History</a>
            <a href="/gallery">Gallery</a>
            <a href="/key">Your key</a>
          </nav>
          {workspace && (
            <span
              class="workspace"
              data-workspace
              title="The workspace this browser works in (its cookie); its batches are listed in History."
            >
              Workspace {workspace}
            </span>
          )}
        </header>
        {keyBlocked ? <KeyBlocked message={keyBlocked} /> : <KeyBar />}
        <div id={ACTIVITY_ID} class="activity" aria-live="polite"></div>
        <main id={MAIN_ID} class="main" hx-history-elt>
          {children}
        </main>
        <footer class="footer">
          <p>
            Cost figures are estimates: {COST_LABEL}. Google bills you directly.
          </p>
        </footer>
      </body>
    </html>
  );
}

/** Instead of the key field where a key would travel unencrypted. */
function KeyBlocked({ message }: { message: string }) {
  return (
    <section class="keybar" aria-label="Gemini API key">
      <p class="key-bad" role="alert">
        {message.replace(/^Refused: /, "No key field here: ")}
      </p>
    </section>
  );
}

/** The key field lives in the header, kept in this tab only. */
function KeyBar() {
  return (
    <section class="keybar" aria-label="Gemini API key">
      <label for="api-key">Gemini API key</label>
      <div class="keybar-row">
        <input
          type="password"
          id={KEY_FIELD_ID}
          name="apiKey"
          autocomplete="off"
          autocapitalize="off"
          spellcheck={false}
          data-1p-ignore
          data-lpignore="true"
          data-bwignore
          placeholder="Paste your key (AIza… or AQ.…)"
          hx-preserve
        />
        <button
          type="button"
          class="button secondary"
          hx-post="/keys/validate"
          hx-include={`#${KEY_FIELD_ID}, select[name=${MODEL_FIELD_NAME}]`}
          hx-target={`#${KEY_STATUS_ID}`}
        >
          Validate
        </button>
      </div>
      <p class="hint">
        Kept only in this tab; paste it again after a reload.{" "}
        <a href="/key">How your key is handled</a>
      </p>
      <div id={KEY_STATUS_ID} class="key-status" aria-live="polite"></div>
    </section>
  );
}
