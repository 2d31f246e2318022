/** The model picker; after key validation it lists the key's models. */
import { KNOWN_MODELS, type ModelInfo } from "../../core/catalog.ts";
import { estimateImageUsd, formatUsd } from "../../core/cost.ts";
import { MODEL_OPTIONS_ID } from "./model_options.tsx";

/**
 * "Nano Banana 2 Lite — 1K only — ≈$0.0336 per 1K image": the price comes
 * from the price table (core/cost.ts), so a label can never disagree with it.
 */
export function modelOptionText(model: ModelInfo): string {
  const usd = estimateImageUsd(model.id, model.defaultSize);
  const price = usd === null
    ? "price unknown"
    : `≈${formatUsd(usd)} per ${model.defaultSize} image`;
  return [`${model.label} (${model.id})`, model.note, price].filter(Boolean)
    .join(" — ");
}

/** Id of the model field (swapped after a key check). */
export const MODEL_FIELD_ID = "model-field";
/** Form name of the model select. */
export const MODEL_FIELD_NAME = "model";

export interface ModelSelectProps {
  selected: string;
  /** Models the validated key can use; undefined before validation. */
  available?: readonly ModelInfo[];
  unsupported?: readonly string[];
}

/** Changing the model refreshes the ratio and size choices. */
export function ModelSelect(
  { selected, available, unsupported = [] }: ModelSelectProps,
) {
  const models = available ?? KNOWN_MODELS;
  return (
    <label id={MODEL_FIELD_ID} class="field">
      <span>Model</span>
      <select
        name={MODEL_FIELD_NAME}
        hx-get="/batches/options"
        hx-trigger="change"
        hx-target={`#${MODEL_OPTIONS_ID}`}
        hx-swap="outerHTML"
        hx-include="closest form"
      >
        {models.map((m) => (
          <option value={m.id} selected={m.id === selected}>
            {modelOptionText(m)}
          </option>
        ))}
      </select>
      {available && (
        <small class="hint">
          {available.length} image model{available.length === 1 ? "" : "s"}{" "}
          available to this key.
          {unsupported.length > 0 &&
            ` Also listed, not yet supported here: ${unsupported.join(", ")}.`}
        </small>
      )}
    </label>
  );
}
