import type { KeyValueStore } from "./session.ts";

/** Where the player's choice is remembered, in `localStorage`. */
const KEY = "tap-trading.sound";

/**
 * A short tone for a result, off unless the player turned it on.
 *
 * ```ts
 * const sound: ResultSound = createResultSound(localStorage);
 * ```
 */
export interface ResultSound {
  enabled(): boolean;
  setEnabled(on: boolean): void;
  /** A rising tone for a win, a low one for a loss; nothing for a void or while off. */
  play(result: "won" | "lost" | "void"): void;
}

/**
 * Result tones made with Web Audio (no file to fetch); off by default, the choice kept in `store`.
 *
 * ```ts
 * const sound = createResultSound(localStorage);
 * sound.setEnabled(true);
 * sound.play("won");
 * ```
 */
export function createResultSound(store: KeyValueStore | undefined): ResultSound {
  let on = false;
  try {
    on = store?.getItem(KEY) === "on";
  } catch {
    on = false;
  }
  let audio: AudioContext | undefined;
  return {
    enabled: () => on,
    setEnabled(value) {
      on = value;
      try {
        store?.setItem(KEY, value ? "on" : "off");
      } catch {
        // Not remembered; still used.
      }
    },
    play(result) {
      if (!on || result === "void" || typeof AudioContext === "undefined") return;
      try {
        audio ??= new AudioContext();
        const start = audio.currentTime;
        const oscillator = audio.createOscillator();
        const gain = audio.createGain();
        oscillator.type = "sine";
        oscillator.frequency.setValueAtTime(result === "won" ? 660 : 220, start);
        if (result === "won") oscillator.frequency.linearRampToValueAtTime(990, start + 0.15);
        gain.gain.setValueAtTime(0.08, start);
        gain.gain.exponentialRampToValueAtTime(0.001, start + 0.3);
        oscillator.connect(gain).connect(audio.destination);
        oscillator.start(start);
        oscillator.stop(start + 0.3);
      } catch {
        // No sound is no loss.
      }
    },
  };
}
