/** Input limits, in one place (documented in the README). */
export const LIMITS = {
  promptsPerBatch: 1000,
  promptChars: 4000,
  imagesPerPrompt: 10,
  itemsPerBatch: 5000,
  titleChars: 200,
  uploadBytes: 1_000_000,
  formBodyBytes: 2_000_000,
  jsonBodyBytes: 2_000_000,
} as const;
