import type { BetHistory, HistoryEntry } from "./bet-history.ts";
import { formatBalance, formatBand, formatClock, formatMultiplier, formatStake } from "./format.ts";

/**
 * The history panel's rows and totals, rewritten only where the history changed.
 *
 * ```ts
 * const panel: HistoryPanel = createHistoryPanel({ root: document.querySelector<HTMLElement>(".history")!, onResult: () => {} });
 * ```
 */
export interface HistoryPanel {
  /** Brings the panel up to `history`; cheap when nothing changed since the last call. */
  render(history: BetHistory): void;
}

interface Row {
  li: HTMLLIElement;
  version: number;
  status: HistoryEntry["status"];
}

/**
 * The status of a bet in words: `open · pays $11.75`, `won +$11.75`, `lost`, `void · $5 back`.
 *
 * ```ts
 * statusText({ status: "won", payout: 11.75, potentialPayout: 11.75 }); // "won +$11.75"
 * ```
 */
export function statusText({ status, payout, potentialPayout }: Pick<HistoryEntry, "status" | "payout" | "potentialPayout">): string {
  switch (status) {
    case "open":
      return `open · pays ${formatStake(potentialPayout)}`;
    case "won":
      return `won +${formatStake(payout)}`;
    case "lost":
      return "lost";
    case "void":
      return `void · ${formatStake(payout)} back`;
    default:
      throw new TypeError(`unknown status ${status satisfies never}`);
  }
}

const span = (className: string, testid?: string) => {
  const el = document.createElement("span");
  el.className = className;
  if (testid) el.dataset.testid = testid;
  return el;
};

/**
 * The list of the player's bets inside `root` (`.history-list`, `.history-totals`,
 * `[data-testid=history-announce]`): one `<li>` per bet carrying `data-bet-id` and
 * `data-status`, kept and reordered rather than rebuilt. A bet that settles while
 * listed flashes (class `settled-now`), is announced to screen readers, and is
 * handed to `onResult` (the optional sound).
 *
 * ```ts
 * const panel = createHistoryPanel({ root, onResult: (entry) => sound.play(entry.status) });
 * panel.render(history);
 * ```
 */
export function createHistoryPanel({ root, onResult }: { root: HTMLElement; onResult: (entry: HistoryEntry) => void }): HistoryPanel {
  const list = root.querySelector<HTMLOListElement>(".history-list")!;
  const empty = root.querySelector<HTMLElement>(".history-empty")!;
  const announce = root.querySelector<HTMLElement>("[data-testid=history-announce]")!;
  const totalEls = {
    staked: root.querySelector<HTMLElement>("[data-testid=total-staked]")!,
    paidOut: root.querySelector<HTMLElement>("[data-testid=total-paid]")!,
    net: root.querySelector<HTMLElement>("[data-testid=total-net]")!,
  };
  const more = root.querySelector<HTMLButtonElement>("[data-testid=history-more]")!;
  const rows = new Map<string, Row>();
  let shownVersion = -1;

  const fill = (row: Row, entry: HistoryEntry) => {
    const { li } = row;
    const { cell } = entry;
    li.dataset.status = entry.status;
    const [where, when, stake, mult, status] = li.children as unknown as HTMLElement[];
    where!.textContent = `${formatBand(cell.price_low)}–${formatBand(cell.price_high)}`;
    when!.textContent = `${formatClock(cell.t_start)}–${formatClock(cell.t_end)}`;
    stake!.textContent = formatStake(entry.amount);
    mult!.textContent = formatMultiplier(entry.multiplier);
    status!.textContent = statusText(entry);
    li.setAttribute(
      "aria-label",
      `${formatStake(entry.amount)} at ${formatMultiplier(entry.multiplier)} on ${where!.textContent}, ${when!.textContent}: ${statusText(entry)}`,
    );
    row.version = entry.version;
  };

  const create = (entry: HistoryEntry): Row => {
    const li = document.createElement("li");
    li.className = "bet-row";
    li.dataset.betId = entry.betId;
    li.append(span("bet-where"), span("bet-when"), span("bet-stake", "bet-stake"), span("bet-mult", "bet-mult"), span("bet-status-cell", "bet-result"));
    const row = { li, version: -1, status: entry.status };
    fill(row, entry);
    return row;
  };

  return {
    render(history) {
      if (history.version() === shownVersion) return;
      shownVersion = history.version();
      const entries = history.entries();
      const settledNow: HistoryEntry[] = [];
      let at: ChildNode | null = list.firstChild;
      for (const entry of entries) {
        let row = rows.get(entry.betId);
        if (!row) {
          row = create(entry);
          rows.set(entry.betId, row);
        } else if (row.version !== entry.version) {
          if (row.status === "open" && entry.status !== "open") settledNow.push(entry);
          fill(row, entry);
        }
        if (settledNow.at(-1) === entry) row.li.classList.add("settled-now");
        row.status = entry.status;
        // Moved only when out of place, so an unchanged list costs no DOM writes.
        if (at === row.li) at = at.nextSibling;
        else list.insertBefore(row.li, at);
      }
      empty.hidden = entries.length > 0;
      const totals = history.totals();
      totalEls.staked.textContent = formatBalance(totals.staked);
      totalEls.paidOut.textContent = formatBalance(totals.paidOut);
      totalEls.net.textContent = `${totals.net < 0 ? "−" : totals.net > 0 ? "+" : ""}${formatBalance(Math.abs(totals.net))}`;
      totalEls.net.dataset.sign = totals.net < 0 ? "down" : totals.net > 0 ? "up" : "flat";
      for (const [key, value] of Object.entries(totals)) root.dataset[`total${key[0]!.toUpperCase()}${key.slice(1)}`] = String(value);
      more.hidden = !history.nextBefore();
      if (settledNow.length > 0) {
        announce.textContent = settledNow.map((entry) => `${formatStake(entry.amount)} on ${formatBand(entry.cell.price_low)}: ${statusText(entry)}`).join(". ");
        for (const entry of settledNow) onResult(entry);
      }
    },
  };
}
