/**
 * Input limits and defaults, in one place (documented in the README). The
 * server's config, the form, the JSON API, the generator protocol and the CLI
 * all import them, so a range cannot drift between them.
 *
 * Each limit is a maximum; counts start at 1 and amounts at 0 unless a `min…`
 * entry says otherwise.
 */
export const LIMITS = {
  promptsPerBatch: 1000,
  promptChars: 4000,
  imagesPerPrompt: 10,
  itemsPerBatch: 5000,
  titleChars: 200,
  /**
   * Rows after templates, "each image" and the matrix are expanded (each
   * makes `imagesPerPrompt` items, and `itemsPerBatch` still applies).
   */
  rowsPerBatch: 5000,
  /** One reference image (PNG, JPEG or WebP). */
  referenceBytes: 10_000_000,
  /** Reference images in one upload (form or `POST /api/references`). */
  referencesPerUpload: 50,
  /** A body that carries reference images: form or `POST /api/references`. */
  uploadBodyBytes: 120_000_000,
  /** Wildcard lists and their values. */
  wildcardLists: 100,
  wildcardValues: 1000,
  uploadBytes: 1_000_000,
  /** Every request body, form or JSON (app.ts applies one body limit). */
  formBodyBytes: 2_000_000,
  /** Parallel requests to Google in one run. */
  concurrency: 16,
  /** Attempts per image (the first try included). */
  maxAttempts: 10,
  /** Timeout of one image request. */
  requestTimeoutMs: 1_800_000,
  /**
   * A shorter timeout would fail every real image request, so it is refused
   * everywhere (config, CLI, protocol) rather than accepted and then useless.
   */
  minRequestTimeoutMs: 1_000,
  /** A batch's budget cap in USD (also bounds the confirmation threshold). */
  budgetUsd: 1_000_000,
  /** Key checks (page and API) per client address per minute. */
  keyChecksPerMinute: 20,
  /** Run starts (page and API) per client address per minute. */
  runStartsPerMinute: 30,
  /** New batches (page and API) per client address per minute. */
  batchCreatesPerMinute: 60,
  /** Wrong Basic-auth credentials per client address per minute. */
  authFailuresPerMinute: 10,
  /**
   * Tokens one answer can report for one count. Far above any real answer;
   * an absurd figure from upstream is clamped to it, never trusted.
   */
  tokensPerAnswer: 10_000_000,
  /**
   * The most generators BATCHGEN_MAX_RUNNING may allow on one instance: 200
   * ran at once on 2 cores with GET /history's p99 under 100 ms (issue 13
   * part 4); beyond, memory or CPU runs out first on most machines.
   */
  maxRunning: 256,
  /** Batches running at the same time in one workspace. */
  runningBatchesPerWorkspace: 3,
  /**
   * Batch mode: requests in one Google job. Results of image jobs are large
   * (a 2K image is ~8 MB of base64), and Google failed to assemble 150 such
   * results in one answer (gemini-api.md §2.6), so jobs stay well below.
   */
  batchJobRows: 100,
  /** Batch mode: a job this small goes inline (its results come inline too). */
  batchInlineRows: 10,
  /** Batch mode: request bytes in one job (its JSONL input file). */
  batchJobBytes: 100_000_000,
} as const;

/** Values used when the user, the environment or the job leaves one out. */
export const DEFAULTS = {
  /** Batch mode: the open page checks on its jobs this often, backing off to 4×. */
  syncEverySeconds: 30,
  /** A workspace's quota (BATCHGEN_WORKSPACE_MAX_*). */
  workspaceMaxBatches: 10_000,
  workspaceMaxItems: 1_000_000,
  workspaceMaxBytes: 20 * 1024 ** 3,
  imagesPerPrompt: 1,
  aspectRatio: "1:1",
  concurrency: 4,
  maxAttempts: 4,
  /** Long enough for a 4K Pro image. */
  requestTimeoutMs: 360_000,
} as const;
