/** What a run is asked to do and what it reports: standard runs and Batch-mode submissions alike. */
import type { Batch, GoogleJob, Image, Item } from "../core/records.ts";
import type { GeneratorEvent } from "../core/protocol.ts";
import type { RunMode } from "../core/status.ts";

/** What a run reports after each event it applied. */
export interface RunUpdate {
  event:
    | GeneratorEvent
    | { type: "finished" }
    // Batch mode: the jobs are at Google; the run ends here.
    | { type: "submitted"; jobs: GoogleJob[]; problem?: string };
  batch: Batch;
  item?: Item;
  image?: Image;
  /** With "finished": the items the run's end left interrupted or cancelled. */
  stoppedItems?: Item[];
}

export interface RunOptions {
  batch: Batch;
  apiKey: string;
  mode: RunMode;
  /** Batch mode: generate now at the standard price instead of a job. */
  now?: boolean;
  signal: AbortSignal;
  onUpdate: (update: RunUpdate) => void | Promise<void>;
}
