/** Ids for rows and batches; in their own module so every query module can share them. */

/** Makes an unguessable id (128 random bits, 32 lowercase base-36 digits). */
export function newId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(36).padStart(2, "0")).join("");
}
