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
  /** Key checks (page and API) per client address per minute. */
  keyChecksPerMinute: 20,
  /** Run starts (page and API) per client address per minute. */
  runStartsPerMinute: 30,
  /** Batches running at the same time in one workspace. */
  runningBatchesPerWorkspace: 3,
} as const;
