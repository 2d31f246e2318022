/** Home: the new-batch form. */
import {
  DEFAULT_MODEL_ID,
  findModel,
  KNOWN_MODELS,
} from "../../core/catalog.ts";
import { DEFAULTS, LIMITS } from "../../core/limits.ts";
import { ModelOptions } from "../components/model_options.tsx";
import { ModelSelect } from "../components/model_select.tsx";
import { KEY_FIELD_ID } from "../components/key_status.tsx";

/** Id of the new-batch form (the estimate reads it). */
export const BATCH_FORM_ID = "batch-form";

/** Values to fill the form with (a re-run or a rejected submission). */
export interface BatchFormValues {
  title?: string;
  prompts?: string;
  model?: string;
  aspectRatio?: string;
  imageSize?: string;
  imagesPerPrompt?: number | string;
  concurrency?: number | string;
  budgetUsd?: number | string;
  mode?: string;
  expandTemplates?: boolean;
  eachReference?: boolean;
  sampleCount?: string;
  sampleSeed?: string;
  matrixModel?: string[];
  matrixAspectRatio?: string;
  matrixImageSize?: string;
}

export interface NewBatchPageProps {
  values: BatchFormValues;
  errors?: Record<string, string>;
  defaultConcurrency: number;
}

function FieldError({ message }: { message?: string }) {
  return message ? <p class="field-error" role="alert">{message}</p> : null;
}

/** The form; it works without JavaScript and htmx enhances it. */
export function NewBatchPage(
  { values, errors = {}, defaultConcurrency }: NewBatchPageProps,
) {
  const model = findModel(values.model ?? "") ?? findModel(DEFAULT_MODEL_ID)!;
  return (
    <section class="panel">
      <h1>New batch</h1>
      <form
        id={BATCH_FORM_ID}
        class="batch-form"
        action="/batches"
        method="post"
        enctype="multipart/form-data"
        // Generate checks the key before it saves the batch (it starts the
        // run); the key is read from the header field, never kept here.
        hx-include={`#${KEY_FIELD_ID}`}
      >
        {errors.form && <p class="form-error" role="alert">{errors.form}</p>}
        <label class="field">
          <span>Prompts, one per line</span>
          <textarea
            name="prompts"
            rows={8}
            placeholder="a watercolor fox in the snow (one prompt per line)"
          >
            {values.prompts ?? ""}
          </textarea>
          <FieldError message={errors.prompts} />
        </label>
        <label class="field">
          <span>…or upload a table of prompts</span>
          <input
            type="file"
            name="promptsFile"
            accept=".txt,.csv,.tsv,.jsonl,.ndjson,.json,text/plain,text/csv"
          />
          <FieldError message={errors.promptsFile} />
          <small class="hint">
            .txt (one per line), .csv/.tsv with a “prompt” column, .jsonl or
            .json. Optional columns per row: model, aspect_ratio, size, count,
            name (file name), references (image names, “;”-separated). Empty
            cells take the values below. Up to {LIMITS.promptsPerBatch}{" "}
            prompts of {LIMITS.promptChars} characters.
          </small>
        </label>
        <FieldError message={errors.rows} />
        <fieldset class="field references">
          <legend id="references-legend">Reference images (optional)</legend>
          <input
            type="file"
            name="references"
            multiple
            accept="image/png,image/jpeg,image/webp"
            aria-labelledby="references-legend"
            aria-describedby="references-hint"
          />
          <FieldError message={errors.references} />
          <small class="hint" id="references-hint">
            PNG, JPEG or WebP, up to {LIMITS.referenceBytes / 1e6}{" "}
            MB each. Sent with every prompt, unless the table names them per
            row.
          </small>
          <label class="check">
            <input
              type="checkbox"
              name="eachReference"
              checked={values.eachReference}
            />{" "}
            Each image: apply the prompt to every image, one row per image
          </label>
        </fieldset>
        <details
          class="more"
          open={Boolean(
            values.expandTemplates || values.sampleCount ||
              values.matrixModel?.length || values.matrixAspectRatio ||
              values.matrixImageSize || errors.wildcardFiles || errors.matrix ||
              errors.sample,
          )}
        >
          <summary>Templates and settings matrix</summary>
          <label class="check">
            <input
              type="checkbox"
              name="expandTemplates"
              checked={values.expandTemplates}
            />{" "}
            Expand templates: <code>{"{red|blue} fox"}</code> makes two prompts,
            {" "}
            <code>__colors__</code> takes each line of colors.txt
          </label>
          <label class="field">
            <span>Wildcard lists (.txt per name, or .json of lists)</span>
            <input
              type="file"
              name="wildcardFiles"
              multiple
              accept=".txt,.json,text/plain,application/json"
            />
            <FieldError message={errors.wildcardFiles} />
          </label>
          <div class="field-row">
            <label class="field">
              <span>Pick N at random per template (optional)</span>
              <input
                type="number"
                name="sampleCount"
                min="1"
                max={String(LIMITS.rowsPerBatch)}
                value={values.sampleCount ?? ""}
              />
              <FieldError message={errors.sample} />
            </label>
            <label class="field">
              <span>Seed (same seed, same picks)</span>
              <input
                type="number"
                name="sampleSeed"
                min="0"
                value={values.sampleSeed ?? ""}
              />
            </label>
          </div>
          <fieldset class="field matrix">
            <legend>Matrix: run every row with every combination</legend>
            <div class="checks">
              {KNOWN_MODELS.map((m) => (
                <label class="check">
                  <input
                    type="checkbox"
                    name="matrixModel"
                    value={m.id}
                    checked={values.matrixModel?.includes(m.id)}
                  />{" "}
                  {m.label}
                </label>
              ))}
            </div>
            <div class="field-row">
              <label class="field">
                <span>Aspect ratios (e.g. 1:1, 16:9)</span>
                <input
                  type="text"
                  name="matrixAspectRatio"
                  value={values.matrixAspectRatio ?? ""}
                />
              </label>
              <label class="field">
                <span>Sizes (e.g. 1K, 2K)</span>
                <input
                  type="text"
                  name="matrixImageSize"
                  value={values.matrixImageSize ?? ""}
                />
              </label>
            </div>
            <FieldError message={errors.matrix} />
          </fieldset>
        </details>
        <ModelSelect selected={model.id} />
        <FieldError message={errors.model} />
        <ModelOptions
          model={model}
          aspectRatio={values.aspectRatio}
          imageSize={values.imageSize}
        />
        <FieldError message={errors.aspectRatio ?? errors.imageSize} />
        <div class="field-row">
          <label class="field">
            <span>Images per prompt</span>
            <input
              type="number"
              name="imagesPerPrompt"
              min="1"
              max={String(LIMITS.imagesPerPrompt)}
              value={String(values.imagesPerPrompt ?? DEFAULTS.imagesPerPrompt)}
            />
            <FieldError message={errors.imagesPerPrompt} />
          </label>
          <label class="field">
            <span>Parallel requests</span>
            <input
              type="number"
              name="concurrency"
              min="1"
              max={String(LIMITS.concurrency)}
              value={String(values.concurrency ?? defaultConcurrency)}
            />
            <FieldError message={errors.concurrency} />
          </label>
        </div>
        <div class="field-row">
          <label class="field">
            <span>Title (optional)</span>
            <input
              type="text"
              name="title"
              maxlength={LIMITS.titleChars}
              value={values.title ?? ""}
            />
            <FieldError message={errors.title} />
          </label>
          <label class="field">
            <span>Budget cap in USD (optional)</span>
            <input
              type="number"
              name="budgetUsd"
              min="0"
              max={String(LIMITS.budgetUsd)}
              step="0.01"
              value={values.budgetUsd === undefined
                ? ""
                : String(values.budgetUsd)}
            />
            <FieldError message={errors.budgetUsd} />
          </label>
        </div>
        <fieldset class="field mode-choice">
          <legend>When</legend>
          <label class="check mode-option">
            <input
              type="radio"
              name="mode"
              value="standard"
              checked={values.mode !== "batch"}
            />{" "}
            <strong>Now</strong>, at the standard price{" "}
            <span class="mode-detail">
              Watch the images arrive in a minute or two.
            </span>
          </label>
          <label class="check mode-option">
            <input
              type="radio"
              name="mode"
              value="batch"
              checked={values.mode === "batch"}
            />{" "}
            <strong>Batch</strong>, about half the price{" "}
            <span class="mode-detail">
              Google's Batch API makes the images within 24 hours. You may close
              the tab: come back, paste your key and they are collected.
            </span>
          </label>
          <FieldError message={errors.mode} />
        </fieldset>
        <div
          id="estimate"
          class="estimate"
          aria-live="polite"
          hx-post="/batches/estimate"
          hx-trigger={`load, input delay:400ms from:#${BATCH_FORM_ID}, change from:#${BATCH_FORM_ID}`}
          hx-include={`#${BATCH_FORM_ID}`}
        >
        </div>
        <FieldError message={errors.apiKey} />
        {/* The words follow the "When" choice (app.css, `:has`). */}
        <button type="submit" class="button primary">
          <span class="when-now">Generate</span>
          <span class="when-batch">Generate (submit to Google)</span>
        </button>
        <p class="hint">
          Generate saves the batch (without your key) and{" "}
          <span class="when-now">starts it</span>
          <span class="when-batch">submits it to Google's Batch API</span>{" "}
          with the key above.
        </p>
      </form>
    </section>
  );
}
