import { expect, test } from "bun:test";
import { createResultSound } from "./result-sound.ts";

test("sound is off until turned on, and the choice is remembered", () => {
  const kept = new Map<string, string>();
  const store = { getItem: (key: string) => kept.get(key) ?? null, setItem: (key: string, value: string) => void kept.set(key, value) };
  const sound = createResultSound(store);
  expect(sound.enabled()).toBe(false);
  sound.setEnabled(true);
  expect(createResultSound(store).enabled()).toBe(true);
  // Without Web Audio (here) a result plays nothing and throws nothing.
  sound.play("won");
  expect(createResultSound(undefined).enabled()).toBe(false);
});
