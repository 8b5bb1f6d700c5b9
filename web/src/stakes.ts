import { formatStake } from "./format.ts";
import type { KeyValueStore } from "./session.ts";

/** The stakes offered, within the API's limits (0.10 to 100.00). */
const STAKES = [0.1, 1, 5, 10, 25, 100] as const;
/** The stake picked until the player picks another. */
const DEFAULT_STAKE = 5;
/** Where the picked stake is remembered, in `localStorage`. */
const KEY = "tap-trading.stake";

/**
 * The stake picker: a radio group (arrow keys move within it, as for any radio
 * group), remembered across reloads.
 *
 * ```ts
 * const stakes = createStakePicker(document.querySelector<HTMLFieldSetElement>(".stakes")!, localStorage, (stake) => console.log(stake));
 * stakes.stake(); // 5 on a first visit; later the stake last picked
 * ```
 */
export function createStakePicker(fieldset: HTMLFieldSetElement, store: KeyValueStore | undefined, onChange: (stake: number) => void): { stake(): number } {
  let kept: number | undefined;
  try {
    kept = Number(store?.getItem(KEY));
  } catch {
    kept = undefined;
  }
  let stake: number = STAKES.find((s) => s === kept) ?? DEFAULT_STAKE;
  for (const value of STAKES) {
    const label = document.createElement("label");
    label.className = "stake";
    const input = document.createElement("input");
    input.type = "radio";
    input.name = "stake";
    input.value = String(value);
    input.checked = value === stake;
    input.dataset.testid = `stake-${value}`;
    input.addEventListener("change", () => {
      if (!input.checked) return;
      stake = value;
      try {
        store?.setItem(KEY, String(value));
      } catch {
        // Not remembered; still used.
      }
      onChange(stake);
    });
    const text = document.createElement("span");
    text.textContent = formatStake(value);
    label.append(input, text);
    fieldset.append(label);
  }
  onChange(stake);
  return { stake: () => stake };
}
