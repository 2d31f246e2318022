/** "How your key is handled": the key promise in plain words. */
export function KeyPage() {
  return (
    <section class="panel prose">
      <h1>How your key is handled</h1>
      <p>
        BatchGen runs image generation on your own Gemini API key, and Google
        bills you directly. Here is exactly what happens to the key you paste.
      </p>
      <h2>What BatchGen never does</h2>
      <ul>
        <li>
          It never stores your key: not in its database, batch records, image
          files, manifests, ZIP downloads, logs or error reports — not even a
          part or a hash of it.
        </li>
        <li>
          It never saves your key in your browser. The key sits in the password
          field of this tab only: not in localStorage, sessionStorage, cookies,
          IndexedDB, the cache or any URL. Reload or close the tab and it is
          gone; paste it again next time. That is on purpose: the key never sits
          on a disk.
        </li>
        <li>
          It never puts your key on a command line. The generator process
          receives it in an environment variable, reads it once and removes it.
        </li>
        <li>
          It uses your key only for what you start: checking it (Validate) and
          running a batch. When that request ends, the key is gone from the
          server; a generator still running is stopped.
        </li>
        <li>
          It never shows an error with your key in it. Google's errors can
          repeat a key; BatchGen removes key material from every message before
          it is shown or saved.
        </li>
      </ul>
      <h2>How the key travels</h2>
      <ol>
        <li>You paste it into the password field at the top of the page.</li>
        <li>
          When you validate or run a batch, your browser sends it to BatchGen —
          over HTTPS, or over plain HTTP only from this same machine. BatchGen
          refuses a key sent over plain HTTP from elsewhere.
        </li>
        <li>
          BatchGen hands it to the generator process in memory, in an
          environment variable.
        </li>
        <li>
          The generator sends it to Google only in the{" "}
          <code>x-goog-api-key</code> header, never in a URL.
        </li>
        <li>When the request ends, nothing that holds the key remains.</li>
      </ol>
      <h2>What you should do</h2>
      <ul>
        <li>
          Create a separate Gemini API key for BatchGen, so you can rotate it
          painlessly.
        </li>
        <li>
          Set a budget or quota in Google AI Studio or Google Cloud so a mistake
          cannot run up a bill.
        </li>
        <li>
          If you think a key has leaked, revoke it in your Google console and
          create a new one.
        </li>
      </ul>
      <h2>Cost figures</h2>
      <p>
        Every cost BatchGen shows is an estimate of your Google usage, computed
        from Google's published prices with the date of that price list (the
        note at the foot of each page says so). BatchGen charges nothing; Google
        alone decides what you are billed. Point at a figure to see the date of
        its prices.
      </p>
    </section>
  );
}
