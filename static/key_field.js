// The key field (#api-key) in the page header: the only place the pasted key
// is kept (K2). Loaded after htmx; no build step, no inline script (CSP).
(() => {
  const FIELD_ID = "api-key";
  const STATUS_ID = "key-status";

  // Clears the key field when the page goes away (a full navigation or
  // closing the tab), so neither the back/forward cache nor a password
  // manager keeps it. In-app navigation swaps only <main> and never fires this.
  addEventListener("pagehide", () => {
    const field = document.getElementById(FIELD_ID);
    if (field) field.value = "";
  });

  // Keeps the key out of what htmx keeps and logs.
  //
  // Requests that need the key (Validate, a run element) name the field in
  // `hx-include`, so htmx 4 collects its value into the request context:
  // `ctx.request.body`, kept for the request's lifetime (and by hx-sse for
  // the stream's). htmx 4.0.1 passes that context to `console.error` on every
  // `htmx:error`: a network failure, its own request timeout, a swap that
  // throws. Anyone at the DevTools console, or a screenshot of it, would get
  // the key.
  //
  // The fix is at the root rather than in the logging: at
  // `htmx:config:request` (the first event after the body is collected, and
  // the first point where our code can act) the key is deleted from the body,
  // and the request gets a `fetch` that adds the field's value to a copy of
  // the body only as it is handed to the browser. From then on nothing htmx
  // holds contains the key, so no log line can show it, whichever event
  // logs, with or without `htmx.config.logAll`, and whatever a future htmx
  // logs after this point. Wrapping `console` instead would mean deep-scanning
  // every argument of every log call and would miss copies made before the
  // scan. The value is read from the field when the request is sent (not
  // kept in a variable or closure, which DevTools can also show); if the
  // field is gone by then, the request goes without a key and the server
  // answers "missing key". A GET never carries the key: it is removed before
  // htmx would copy the body into the URL.
  //
  // Not covered: with `htmx.config.logAll` on, htmx logs the
  // `htmx:config:request` event itself just before this listener runs, by
  // reference; by the time anyone can expand it, the key has been removed.
  // hx-sse's reconnect (only for `hx-sse:connect`, which BatchGen does not
  // use) re-sends the saved body with the plain `fetch`, so without the key.

  /** Contexts of requests that carry the key, and the elements that sent them. */
  const keyRequests = new WeakSet();
  const keySenders = new WeakSet();

  document.addEventListener("htmx:config:request", (event) => {
    const ctx = event.detail?.ctx;
    const body = ctx?.request?.body;
    const name = document.getElementById(FIELD_ID)?.name;
    if (!name || typeof body?.has !== "function" || !body.has(name)) return;
    body.delete(name);
    keyRequests.add(ctx);
    if (ctx.sourceElement) keySenders.add(ctx.sourceElement);
    const send = ctx.fetch ?? globalThis.fetch.bind(globalThis);
    ctx.fetch = (url, init) => send(url, { ...init, body: withKey(init.body) });
  });

  /** A copy of `body` with the key field's current value, for `fetch` only. */
  function withKey(body) {
    const field = document.getElementById(FIELD_ID);
    if (!field) return body;
    let copy;
    if (body instanceof URLSearchParams) {
      copy = new URLSearchParams(body);
    } else if (body instanceof FormData) {
      copy = new FormData();
      for (const [key, value] of body) copy.append(key, value);
    } else {
      return body; // no body (a GET): the key never goes into a URL
    }
    copy.append(field.name, field.value);
    return copy;
  }

  // When a request that carries the key fails, htmx swaps nothing: say so
  // where the user is looking (the line under the key field, or the run).

  const KEY_MESSAGES = {
    unreachable:
      "Could not reach BatchGen to check the key. Check that it is running, then try again.",
    timeout: "BatchGen did not answer in time. Try again.",
    broken: "BatchGen answered, but the answer could not be shown. Try again.",
  };
  const RUN_MESSAGES = {
    unreachable:
      "Could not reach BatchGen to start the run. Check that it is running, then press Resume on the batch page.",
    timeout:
      "BatchGen did not answer in time. Open the batch page to see whether the run started; Resume continues it.",
    broken:
      "BatchGen answered, but its answer could not be shown. Open the batch page to see whether the run started; Resume continues it.",
    lost:
      "The connection to BatchGen was lost, and the run stops without it. Open the batch page to see where it stands; Resume continues it.",
  };

  document.addEventListener("htmx:error", (event) => {
    const { ctx, error } = event.detail ?? {};
    if (!ctx || !keyRequests.has(ctx)) return;
    const kind =
      error === "timeout" || ctx.request?.signal?.reason === "timeout"
        ? "timeout"
        : ctx.response
        ? "broken"
        : "unreachable";
    tell(ctx.sourceElement, kind);
  });

  // A run's stream failing after it started (hx-sse's own error event).
  document.addEventListener("htmx:sse:error", (event) => {
    if (keySenders.has(event.target)) tell(event.target, "lost");
  });

  function tell(source, kind) {
    if (source?.isConnected && source.classList.contains("run")) {
      // As a refused run looks (views/components/run_starter.tsx): an ended
      // line has its own id, so starting again replaces it.
      const batch = source.dataset.batch;
      if (batch) {
        document.getElementById(`run-ended-${batch}`)?.remove();
        source.id = `run-ended-${batch}`;
      }
      source.classList.add("run-refused");
      source.setAttribute("role", "alert");
      source.textContent = RUN_MESSAGES[kind] ?? RUN_MESSAGES.unreachable;
      return;
    }
    const status = document.getElementById(STATUS_ID);
    if (!status) return;
    const line = document.createElement("p");
    line.className = "key-bad";
    line.setAttribute("role", "alert");
    line.textContent = KEY_MESSAGES[kind] ?? KEY_MESSAGES.unreachable;
    status.replaceChildren(line);
  }
})();
