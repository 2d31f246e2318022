/**
 * The instance's metrics, kept in memory and written in Prometheus' text
 * exposition format (version 0.0.4) for `GET /metrics`. Hand-written: a few
 * counters, gauges read at scrape time and one histogram need no library.
 *
 * Run events come from the generator's protocol (core/protocol.ts) as the
 * engine reports them to the page and the API (`trackRun`). Nothing here
 * holds a key, a prompt or a path: labels are fixed words, failure kinds,
 * HTTP methods, route patterns and status codes.
 */
import type { GeneratorEvent } from "../core/protocol.ts";

type Labels = Record<string, string>;

/** Seconds; from 5 ms (a static file) to a minute (a big form upload). */
export const HTTP_BUCKETS = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
] as const;

/** The Prometheus text format's escapes for a label value. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(
    /"/g,
    '\\"',
  );
}

function labelText(labels: Labels): string {
  const pairs = Object.entries(labels).map(([name, value]) =>
    `${name}="${escapeLabel(value)}"`
  );
  return pairs.length ? `{${pairs.join(",")}}` : "";
}

function numberText(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return Number.isNaN(value) ? "NaN" : String(value);
}

function header(name: string, type: string, help: string): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
}

/** A counter with labels; series appear once counted (or when `preset`). */
class Counter {
  readonly #series = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string, readonly help: string) {}

  inc(labels: Labels = {}, by = 1): void {
    const id = labelText(labels);
    const series = this.#series.get(id);
    if (series) series.value += by;
    else this.#series.set(id, { labels, value: by });
  }

  /** Shows a series at 0 before its first event (rates start from 0). */
  preset(labels: Labels = {}): void {
    this.inc(labels, 0);
  }

  value(labels: Labels = {}): number {
    return this.#series.get(labelText(labels))?.value ?? 0;
  }

  render(): string[] {
    const lines = header(this.name, "counter", this.help);
    for (const id of [...this.#series.keys()].sort()) {
      lines.push(
        `${this.name}${id} ${numberText(this.#series.get(id)!.value)}`,
      );
    }
    return lines;
  }
}

/** A histogram with labels and fixed buckets. */
class Histogram {
  readonly #series = new Map<
    string,
    { labels: Labels; counts: number[]; sum: number; count: number }
  >();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  observe(labels: Labels, value: number): void {
    const id = labelText(labels);
    let series = this.#series.get(id);
    if (!series) {
      series = {
        labels,
        counts: this.buckets.map(() => 0),
        sum: 0,
        count: 0,
      };
      this.#series.set(id, series);
    }
    this.buckets.forEach((bound, i) => {
      if (value <= bound) series.counts[i]!++;
    });
    series.sum += value;
    series.count++;
  }

  /** Observations of one series (tests). */
  count(labels: Labels): number {
    return this.#series.get(labelText(labels))?.count ?? 0;
  }

  render(): string[] {
    const lines = header(this.name, "histogram", this.help);
    for (const id of [...this.#series.keys()].sort()) {
      const { labels, counts, sum, count } = this.#series.get(id)!;
      this.buckets.forEach((bound, i) => {
        lines.push(
          `${this.name}_bucket${
            labelText({ ...labels, le: numberText(bound) })
          } ${counts[i]}`,
        );
      });
      lines.push(
        `${this.name}_bucket${labelText({ ...labels, le: "+Inf" })} ${count}`,
      );
      lines.push(`${this.name}_sum${id} ${numberText(sum)}`);
      lines.push(`${this.name}_count${id} ${count}`);
    }
    return lines;
  }
}

/** The events a run reports (engine/run_batch.ts `RunUpdate.event`). */
type RunEvent = GeneratorEvent | { type: "finished" } | { type: "submitted" };

/** How an image's item ended, as `batchgen_images_total` counts it. */
export const IMAGE_OUTCOMES = ["saved", "failed", "blocked"] as const;

/** What the metrics read from the rest of the instance at scrape time. */
export interface MetricsSources {
  /** Runs (generators or Batch-mode submissions) in progress now. */
  runsActive: () => number;
  /** BATCHGEN_MAX_RUNNING. */
  runsMax?: number;
}

/** The metrics of one app instance. */
export class Metrics {
  readonly runsStarted = new Counter(
    "batchgen_runs_started_total",
    "Runs started from the page or the API (standard runs and Batch-mode submissions).",
  );
  readonly images = new Counter(
    "batchgen_images_total",
    "Images whose item ended, by outcome: saved, failed or blocked (safety).",
  );
  readonly bytesStored = new Counter(
    "batchgen_image_bytes_stored_total",
    "Bytes of the images saved.",
  );
  readonly googleRequests = new Counter(
    "batchgen_google_requests_total",
    'Image requests to Google by how each attempt ended: "ok", "rate-limited" (429), "retried" (a 5xx, timeout or network error that was tried again), "unanswered" (cut off by a cancel or a stop), or the failure kind of a final failure (blocked, invalid-request, server, timeout…).',
  );
  readonly rateLimited = new Counter(
    "batchgen_google_rate_limited_total",
    "429 (rate-limit) answers from Google.",
  );
  readonly retries = new Counter(
    "batchgen_google_retries_total",
    "Requests that retried an image (its second request and later, 429s included).",
  );
  readonly httpDuration = new Histogram(
    "batchgen_http_request_duration_seconds",
    "Time until the response headers, by method, route pattern and status (a run stream counts until it starts).",
    HTTP_BUCKETS,
  );
  readonly #sources: MetricsSources;

  constructor(sources: MetricsSources) {
    this.#sources = sources;
    for (const outcome of IMAGE_OUTCOMES) this.images.preset({ outcome });
    this.googleRequests.preset({ outcome: "ok" });
    this.googleRequests.preset({ outcome: "rate-limited" });
    this.runsStarted.preset();
    this.bytesStored.preset();
    this.rateLimited.preset();
    this.retries.preset();
  }

  /** Counts one HTTP request. */
  observeHttp(
    labels: { method: string; route: string; status: number },
    seconds: number,
  ): void {
    this.httpDuration.observe({
      method: labels.method,
      route: labels.route,
      status: String(labels.status),
    }, seconds);
  }

  /**
   * Counts a run that starts now, and wraps its `onUpdate` so each event it
   * reports is counted before the caller sees it (a gone client does not
   * stop the counting: the engine reports every event).
   */
  trackRun<U extends { event: { type: string } }>(
    onUpdate: (update: U) => void | Promise<void>,
  ): (update: U) => void | Promise<void> {
    this.runsStarted.inc();
    const count = this.#runCounter();
    return (update) => {
      count(update.event as RunEvent);
      return onUpdate(update);
    };
  }

  /**
   * One run's event counter. The generator reports an attempt's start
   * (`item-started`), its success (`image-saved`) and an item's final
   * failure (`item-failed`); an attempt that is retried reports nothing but
   * a `rate-limited` event for a 429. So an attempt still open when its
   * item starts again was retried: a 429 if one is unaccounted for, else
   * another retryable error.
   */
  #runCounter(): (event: RunEvent) => void {
    const open = new Set<string>();
    let unclaimed429 = 0;
    let stopKind: string | undefined;
    const ended = (outcome: string) => this.googleRequests.inc({ outcome });
    return (event) => {
      switch (event.type) {
        case "item-started":
          // A request after an item's first is a retry, whatever its
          // attempt number (a 429 is tried again as the same attempt).
          if (open.has(event.itemId)) this.retries.inc();
          if (open.has(event.itemId)) {
            if (unclaimed429 > 0) {
              unclaimed429--;
              ended("rate-limited");
            } else ended("retried");
          }
          open.add(event.itemId);
          return;
        case "rate-limited":
          this.rateLimited.inc();
          unclaimed429++;
          return;
        case "image-saved":
          if (open.delete(event.itemId)) ended("ok");
          this.images.inc({ outcome: "saved" });
          this.bytesStored.inc({}, event.bytes);
          return;
        case "item-failed":
          if (open.delete(event.itemId)) ended(event.kind);
          // A 429 on the last attempt reports both events.
          if (event.kind === "rate-limited" && unclaimed429 > 0) {
            unclaimed429--;
          }
          this.images.inc({
            outcome: event.kind === "blocked" ? "blocked" : "failed",
          });
          return;
        case "batch-stopped":
          // The attempt that stopped the batch (auth, quota…); which item
          // it was is not reported.
          stopKind = event.kind;
          return;
        case "finished": {
          let unanswered = open.size;
          if (stopKind && unanswered > 0) {
            ended(stopKind);
            unanswered--;
          }
          if (unanswered > 0) {
            this.googleRequests.inc({ outcome: "unanswered" }, unanswered);
          }
          open.clear();
          return;
        }
      }
    };
  }

  /** The exposition text, ending with a newline. */
  render(): string {
    const lines: string[] = [];
    const gauge = (name: string, help: string, value: number) =>
      lines.push(
        ...header(name, "gauge", help),
        `${name} ${numberText(value)}`,
      );
    gauge(
      "batchgen_runs_active",
      "Runs in progress on this instance.",
      this.#sources.runsActive(),
    );
    if (this.#sources.runsMax !== undefined) {
      gauge(
        "batchgen_runs_max",
        "Runs this instance runs at once at most (BATCHGEN_MAX_RUNNING).",
        this.#sources.runsMax,
      );
    }
    for (
      const metric of [
        this.runsStarted,
        this.images,
        this.bytesStored,
        this.googleRequests,
        this.rateLimited,
        this.retries,
        this.httpDuration,
      ]
    ) lines.push(...metric.render());
    gauge(
      "process_resident_memory_bytes",
      "Resident memory size in bytes.",
      Deno.memoryUsage().rss,
    );
    gauge(
      "process_start_time_seconds",
      "Start time of the process since the Unix epoch, in seconds.",
      Math.round(performance.timeOrigin) / 1000,
    );
    return lines.join("\n") + "\n";
  }
}

/** The Content-Type of `Metrics.render()`. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** The metrics each app's dependencies were given (app.ts). */
const attached = new WeakMap<object, Metrics>();

/**
 * Makes `metrics` the metrics of whatever is served with `deps`: the run
 * routes find them with `metricsOf(deps)`. (The deps object itself stays
 * as it is: tests swap its parts after the app is built.)
 */
export function attachMetrics(deps: object, metrics: Metrics): void {
  attached.set(deps, metrics);
}

/** The metrics attached to `deps`, if any. */
export function metricsOf(deps: object): Metrics | undefined {
  return attached.get(deps);
}

/**
 * `onUpdate` of a run that starts now, counted into `metrics` when there
 * are any (see `Metrics.trackRun`).
 */
export function countRun<U extends { event: { type: string } }>(
  metrics: Metrics | undefined,
  onUpdate: (update: U) => void | Promise<void>,
): (update: U) => void | Promise<void> {
  return metrics ? metrics.trackRun(onUpdate) : onUpdate;
}
