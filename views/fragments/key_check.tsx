/**
 * The answer to Validate: which image models the key can use, and the
 * model picker narrowed to them. It never contains the key (K2).
 */
import type { ModelInfo } from "../../core/catalog.ts";
import { Replace } from "../partial.tsx";
import { KeyStatusMessage } from "../components/key_status.tsx";
import { MODEL_FIELD_ID, ModelSelect } from "../components/model_select.tsx";
import {
  MODEL_OPTIONS_ID,
  ModelOptions,
} from "../components/model_options.tsx";

export interface KeyCheckedProps {
  /** Models the key can use that BatchGen knows. */
  usable: readonly ModelInfo[];
  /** Image models the key lists that BatchGen does not know yet. */
  unsupported: readonly string[];
  /** The model the form had selected. */
  current: string | undefined;
}

/** "Key works" plus the narrowed model picker (and options, if it changed). */
export function KeyChecked({ usable, unsupported, current }: KeyCheckedProps) {
  const selected = usable.find((m) => m.id === current) ?? usable[0];
  return (
    <>
      <KeyStatusMessage
        ok
        message={`Key works. Image models it can use: ${
          usable.length > 0
            ? usable.map((m) => m.label).join(", ")
            : "none that BatchGen supports"
        }. Listing models does not prove image quota: free-tier keys get none.`}
      />
      {selected && (
        <Replace id={MODEL_FIELD_ID}>
          <ModelSelect
            selected={selected.id}
            available={usable}
            unsupported={unsupported}
          />
        </Replace>
      )}
      {selected && selected.id !== current && (
        <Replace id={MODEL_OPTIONS_ID}>
          <ModelOptions model={selected} />
        </Replace>
      )}
    </>
  );
}
