/** The aspect-ratio and size selects, offering only what the model supports. */
import { DEFAULTS } from "../../core/limits.ts";
import {
  type ModelInfo,
  offeredSizeOrDefault,
  sizeChoices,
} from "../../core/catalog.ts";

/** Id of the ratio and size fields (swapped when the model changes). */
export const MODEL_OPTIONS_ID = "model-options";

export interface ModelOptionsProps {
  model: ModelInfo;
  aspectRatio?: string;
  imageSize?: string;
}

/** Swapped as a whole when the model changes. */
export function ModelOptions(
  { model, aspectRatio, imageSize }: ModelOptionsProps,
) {
  const ratio = model.aspectRatios.includes(aspectRatio ?? "")
    ? aspectRatio
    : DEFAULTS.aspectRatio;
  const sizes = sizeChoices(model);
  const size = offeredSizeOrDefault(model, imageSize);
  return (
    <div id={MODEL_OPTIONS_ID} class="field-row">
      <label class="field">
        <span>Aspect ratio</span>
        <select name="aspectRatio">
          {model.aspectRatios.map((r) => (
            <option value={r} selected={r === ratio}>{r}</option>
          ))}
        </select>
      </label>
      <label class="field">
        <span>Image size</span>
        <select name="imageSize">
          {sizes.map((s) => <option value={s} selected={s === size}>{s}
          </option>)}
        </select>
      </label>
    </div>
  );
}
