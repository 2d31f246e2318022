/** Home: the new-batch form. */
import { DEFAULT_MODEL_ID, findModel } from "../../core/catalog.ts";
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
          <span>
            …or upload prompts (.txt, .csv with a “prompt” column, .jsonl)
          </span>
          <input
            type="file"
            name="promptsFile"
            accept=".txt,.csv,.jsonl,.ndjson,text/plain,text/csv"
          />
          <FieldError message={errors.promptsFile} />
          <small class="hint">
            Up to {LIMITS.promptsPerBatch} prompts of {LIMITS.promptChars}{" "}
            characters.
          </small>
        </label>
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
        <button type="submit" class="button primary">Generate</button>
        <p class="hint">
          Generate saves the batch (without your key) and starts it with the key
          above.
        </p>
      </form>
    </section>
  );
}
