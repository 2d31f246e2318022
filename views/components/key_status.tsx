/** The line under the key field that answers Validate (and key refusals). */

/** Id of the region under the key field. */
export const KEY_STATUS_ID = "key-status";
/** Id of the key field itself (K2: the only place the key is kept). */
export const KEY_FIELD_ID = "api-key";

/** A key check's verdict, or why a key request was refused. */
export function KeyStatusMessage(
  { ok, message }: { ok: boolean; message: string },
) {
  return ok
    ? <p class="key-ok" role="status">{message}</p>
    : <p class="key-bad" role="alert">{message}</p>;
}
